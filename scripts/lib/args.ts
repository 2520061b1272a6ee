/** `--name value`, `--name=value` and `--flag`; the rest are positional. Unknown options are refused by the caller. */
export function parseArgs(argv: readonly string[]): { options: Map<string, string>; positional: string[] } {
  const options = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq > 0) options.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) options.set(arg.slice(2), argv[++i]!);
    else options.set(arg.slice(2), 'true');
  }
  return { options, positional };
}

export function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

export function checkKnown(options: Map<string, string>, known: readonly string[], usage: string): void {
  for (const name of options.keys()) if (!known.includes(name)) fail(`Unknown option --${name}.\n${usage}`);
}

export function positiveNumber(options: Map<string, string>, name: string, fallback: number | undefined): number | undefined {
  const raw = options.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) fail(`--${name} must be a positive number; got ${JSON.stringify(raw)}.`);
  return value;
}
