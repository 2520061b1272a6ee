import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The domain must be replayable years later with the same result: no I/O, no clock, no randomness.
const domainDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'domain');
const files = (readdirSync(domainDir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).sort();

const FORBIDDEN: Array<[RegExp, string]> = [
  [/\bDate\.now\s*\(/, 'reads the clock (Date.now)'],
  [/\bnew\s+Date\s*\(/, 'reads the clock (new Date)'],
  [/\bperformance\.now\s*\(/, 'reads the clock (performance.now)'],
  [/\bMath\.random\s*\(/, 'uses randomness (Math.random)'],
  [/\bcrypto\b/, 'uses crypto'],
  [/\bprocess\./, 'reads the process environment'],
  [/\brequire\s*\(/, 'loads modules at run time (require)'],
  [/\bimport\s*\(/, 'loads modules at run time (dynamic import)'],
  [/\b(?:setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(/, 'schedules work (timers)'],
  [/\bfetch\s*\(/, 'does network I/O (fetch)'],
  [/\bconsole\./, 'writes to the console'],
  [/\bafter\s*:/, 'uses XState delayed transitions (after)'],
  [/\binvoke\s*:/, 'invokes XState actors'],
];

function importSpecifiers(source: string): string[] {
  const specifiers: string[] = [];
  for (const match of source.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]/gm)) specifiers.push(match[1]!);
  for (const match of source.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) specifiers.push(match[1]!);
  return specifiers;
}

describe('domain purity', () => {
  it('finds the domain sources', () => {
    expect(files).toContain('decider.ts');
    expect(files).toContain(join('incident', 'incident.machine.ts'));
    expect(files).toContain(join('unit', 'unit.decider.ts'));
  });

  for (const file of files) {
    describe(file, () => {
      const source = readFileSync(join(domainDir, file), 'utf8');

      it('imports only its neighbours and xstate', () => {
        const bad = importSpecifiers(source).filter((s) => !(s.startsWith('./') || s.startsWith('../') || s === 'xstate'));
        expect(bad, `${relative(process.cwd(), join(domainDir, file))} imports ${bad.join(', ')}`).toEqual([]);
      });

      it('uses no clock, randomness or I/O', () => {
        const found = FORBIDDEN.filter(([pattern]) => pattern.test(source)).map(([, why]) => why);
        expect(found).toEqual([]);
      });
    });
  }

  it('never imports out of domain/', () => {
    for (const file of files) {
      const source = readFileSync(join(domainDir, file), 'utf8');
      for (const specifier of importSpecifiers(source).filter((s) => s.startsWith('.'))) {
        const target = join(dirname(join(domainDir, file)), specifier);
        expect(relative(domainDir, target).startsWith('..'), `${file} imports ${specifier}`).toBe(false);
      }
    }
  });
});
