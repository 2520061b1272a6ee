// The one dependency rule of ARCHITECTURE.md, checked over the source: web → (HTTP/WS) → api → projections,
// eventstore → domain. A file may import its own room and the rooms its room points to; web/ may take only types
// from domain/. Tools outside the rule (scripts/, bench/, test/) may import anything, and nothing may import them.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

const ALLOWED: Record<string, string[]> = {
  domain: ['domain'],
  eventstore: ['eventstore', 'domain'],
  projections: ['projections', 'eventstore', 'domain'],
  api: ['api', 'projections', 'eventstore', 'domain'],
  web: ['web'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name === 'dist') return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx)$/.test(entry.name) ? [path] : [];
  });
}

interface ImportFound {
  specifier: string;
  typeOnly: boolean;
}

/** Static imports and re-exports, and dynamic `import('…')`, with whether they bring types only. */
function importsOf(source: string): ImportFound[] {
  const found: ImportFound[] = [];
  const statement = /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;
  for (const match of source.matchAll(statement)) {
    if (match[5] !== undefined) {
      found.push({ specifier: match[5], typeOnly: false });
      continue;
    }
    const clause = match[3] ?? '';
    // `import { type A, type B } from` brings types only too.
    const named = /^\{([^}]*)\}$/.exec(clause.trim());
    const allTypes = named !== null && named[1]!.split(',').map((s) => s.trim()).filter(Boolean).every((s) => s.startsWith('type '));
    found.push({ specifier: match[4]!, typeOnly: match[2] !== undefined || allTypes });
  }
  for (const match of source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push({ specifier: match[1]!, typeOnly: false });
  return found;
}

/** Breaches of the rule by one file (path relative to the repository), given its source. */
function breaches(file: string, source: string): string[] {
  const room = file.split(sep)[0]!;
  const allowed = ALLOWED[room];
  if (!allowed) return [];
  const out: string[] = [];
  for (const { specifier, typeOnly } of importsOf(source)) {
    if (!specifier.startsWith('.')) continue; // a package, or a node: built-in
    const target = relative(ROOT, resolve(ROOT, dirname(file), specifier));
    const targetRoom = target.split(sep)[0]!;
    if (allowed.includes(targetRoom)) continue;
    if (room === 'web' && targetRoom === 'domain' && typeOnly) continue;
    out.push(`${file} imports ${target}${room === 'web' && targetRoom === 'domain' ? ' (web may take only types from domain/)' : ''}`);
  }
  return out;
}

describe('the dependency rule', () => {
  it('reads type-only imports and rooms as the rule means them', () => {
    expect(breaches(join('api', 'main.ts'), "import { simulate } from '../scripts/simulation/run.ts';")).toEqual([
      `api${sep}main.ts imports scripts${sep}simulation${sep}run.ts`,
    ]);
    expect(breaches(join('domain', 'x.ts'), "import { store } from '../eventstore/port.ts';")).toHaveLength(1);
    expect(breaches(join('projections', 'x.ts'), "export { a } from '../api/a.ts';")).toHaveLength(1);
    expect(breaches(join('eventstore', 'x.ts'), "const m = await import('../projections/runner.ts');")).toHaveLength(1);
    expect(breaches(join('web', 'src', 'a.tsx'), "import { decide } from '../../domain/index.ts';")).toHaveLength(1);
    expect(breaches(join('web', 'src', 'a.tsx'), "import type { Incident } from '../../domain/index.ts';")).toEqual([]);
    expect(breaches(join('web', 'src', 'a.tsx'), "import { type Incident, type Unit } from '../../domain/index.ts';")).toEqual([]);
    expect(breaches(join('web', 'src', 'a.tsx'), "import { type Incident, decide } from '../../domain/index.ts';")).toHaveLength(1);
    expect(breaches(join('api', 'main.ts'), "import Fastify from 'fastify';\nimport { decide } from '../domain/index.ts';")).toEqual([]);
  });

  it('holds for every source file of domain/, eventstore/, projections/, api/ and web/', () => {
    const files = Object.keys(ALLOWED).flatMap((room) => sourceFiles(join(ROOT, room)));
    expect(files.length).toBeGreaterThan(100);
    const found = files.flatMap((path) => breaches(relative(ROOT, path), readFileSync(path, 'utf8')));
    expect(found).toEqual([]);
  });
});
