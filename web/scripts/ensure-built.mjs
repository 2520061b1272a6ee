// Builds web/dist when any source it is made from (web/, and the domain types it imports) is newer than the
// bundle, so `npm start` on a fresh checkout serves the UI and a stale bundle is never what runs or is tested.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const web = join(root, 'web');
const index = join(web, 'dist', 'index.html');

function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'dist' || entry === 'node_modules') continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

const built = existsSync(index) ? statSync(index).mtimeMs : 0;
const sources = Math.max(newestMtime(web), newestMtime(join(root, 'domain')));
if (built < sources || process.env.E2E_FORCE_BUILD === '1') {
  console.log('building the web app (web/dist)…');
  execFileSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(web, 'vite.config.ts'), '--logLevel', 'warn'], {
    cwd: root,
    stdio: 'inherit',
    // Under vitest NODE_ENV is "test", which would give React's development build.
    env: { ...process.env, NODE_ENV: 'production' },
  });
}
