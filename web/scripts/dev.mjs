// `npm run dev`: the API (tsx api/main.ts on 127.0.0.1:3000) and Vite's dev server with hot reload, which
// proxies /api (WebSocket included) to it. Ctrl-C stops both; if either exits, the other is stopped too.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = (name) => fileURLToPath(new URL(`../../node_modules/.bin/${name}`, import.meta.url));
const apiPort = process.env.PORT ?? '3000';

const children = [
  ['api', bin('tsx'), ['watch', '--clear-screen=false', 'api/main.ts'], { PORT: apiPort, HOST: process.env.HOST ?? '127.0.0.1' }],
  ['web', bin('vite'), ['--config', 'web/vite.config.ts'], { API_URL: `http://127.0.0.1:${apiPort}` }],
].map(([name, cmd, args, env]) => {
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (stream, out) =>
    stream.on('data', (chunk) => {
      for (const line of String(chunk).split('\n')) if (line) out.write(`[${name}] ${line}\n`);
    });
  prefix(child.stdout, process.stdout);
  prefix(child.stderr, process.stderr);
  child.on('exit', (code) => {
    console.error(`[${name}] exited with ${code}`);
    stop(code ?? 1);
  });
  return child;
});

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 500).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
