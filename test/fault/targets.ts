// What the crash scenarios share: the stores they run on, a place for each run's data, and kill points that a seed
// reproduces.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreConfig } from '../../eventstore/connect.ts';
import { openTestDatabase } from '../support/db.ts';

export type CrashTarget = { title: string; kind: 'embedded' | 'postgres' };

/** The embedded store always; PostgreSQL too when DATABASE_URL is set. */
export function crashTargets(): CrashTarget[] {
  const targets: CrashTarget[] = [{ title: 'embedded PGlite (DATA_DIR)', kind: 'embedded' }];
  if (process.env.DATABASE_URL) targets.push({ title: 'PostgreSQL (DATABASE_URL)', kind: 'postgres' });
  return targets;
}

/** A seeded generator, so a failing run's kill points can be reproduced from the seed it prints (FAULT_SEED). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

export const faultSeed = () => Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);

/**
 * A fresh store for a child server: a database of its own on PostgreSQL (with no pool of ours left open, which the
 * drop would have to force out), or a data directory for the embedded PGlite. `cleanup` goes with the test's others.
 */
export async function crashStore(kind: CrashTarget['kind'], cleanup: (fn: () => Promise<void>) => void): Promise<{ server: { databaseUrl: string } | { dataDir: string }; store: StoreConfig }> {
  if (kind === 'postgres') {
    const db = await openTestDatabase({ kind: 'postgres' });
    await db.sql.end();
    cleanup(() => db.close());
    return { server: { databaseUrl: db.url }, store: { databaseUrl: db.url } };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'cbd-crash-'));
  cleanup(async () => rmSync(dataDir, { recursive: true, force: true }));
  return { server: { dataDir }, store: { dataDir } };
}
