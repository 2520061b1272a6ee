// A large event log, written once per run and shared by the rebuild and audit figures (writing a million events
// takes minutes on two cores; reading it is what those figures measure).
import { migrate } from '../eventstore/migrate.ts';
import { PostgresEventStore } from '../eventstore/postgres.ts';
import type { TestDatabase } from '../test/support/db.ts';
import { freshDatabase, writeSyntheticLog } from './support.ts';

export interface LogFixture {
  kind: 'postgres' | 'pglite';
  db: TestDatabase;
  store: PostgresEventStore;
  /** Events in the log now. */
  events: number;
  /** Seconds spent writing it (not part of any figure). */
  writeSeconds: number;
}

const fixtures = new Map<string, LogFixture>();

/** The shared log of this kind, grown to at least `size` events through the store's own append. */
export async function logOfAtLeast(kind: 'postgres' | 'pglite', size: number): Promise<LogFixture> {
  let fixture = fixtures.get(kind);
  if (!fixture) {
    const db = await freshDatabase(kind);
    if (kind === 'postgres') await migrate(db.sql);
    fixture = { kind, db, store: new PostgresEventStore(db.sql, { name: kind, listen: false }), events: 0, writeSeconds: 0 };
    fixtures.set(kind, fixture);
  }
  if (fixture.events < size) {
    const started = performance.now();
    let reported = 0;
    const written = await writeSyntheticLog(fixture.store, size - fixture.events, {
      concurrency: kind === 'pglite' ? 2 : 8,
      onProgress: (n) => {
        if (n - reported >= 100_000) {
          reported = n;
          process.stderr.write(`  … ${fixture!.events + n} events written\n`);
        }
      },
    });
    fixture.events += written.events;
    fixture.writeSeconds += (performance.now() - started) / 1000;
  }
  return fixture;
}

export async function closeLogFixtures(): Promise<void> {
  for (const fixture of fixtures.values()) {
    await fixture.store.close().catch(() => {});
    await fixture.db.close().catch(() => {});
  }
  fixtures.clear();
}
