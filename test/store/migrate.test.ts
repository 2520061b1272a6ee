import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { migrate, MIGRATIONS_DIR } from '../../eventstore/migrate.ts';
import { openTestDatabase, type TestDatabase } from '../support/db.ts';

const kinds: ('pglite' | 'postgres')[] = process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

for (const kind of kinds) {
  describe(`migrate — ${kind}`, () => {
    let db: TestDatabase;
    let folder: string;

    beforeAll(async () => {
      db = await openTestDatabase({ kind });
    });
    afterAll(async () => {
      await db?.close();
    });
    afterEach(() => {
      if (folder) rmSync(folder, { recursive: true, force: true });
    });

    it('applies the event store migration once, however many callers race to apply it', async () => {
      // Separate clients are separate sessions, as two processes would be.
      const others = kind === 'postgres' ? [postgres(db.url, { onnotice: () => {} }), postgres(db.url, { onnotice: () => {} })] : [];
      try {
        await Promise.all([migrate(db.sql), migrate(db.sql), ...others.map((sql) => migrate(sql))]);
      } finally {
        await Promise.all(others.map((sql) => sql.end()));
      }
      await migrate(db.sql);
      const applied = await db.sql<{ id: number; name: string }[]>`select migration_id as id, name from migrations order by migration_id`;
      expect(applied[0]).toEqual({ id: 1, name: 'event_store' });
      const tables = await db.sql<{ name: string }[]>`
        select table_name as name from information_schema.tables where table_name in ('events', 'streams') order by 1`;
      expect(tables.map((t) => t.name)).toEqual(['events', 'streams']);
    });

    it('applies later folders as they are added, and rolls a failing one back entirely', async () => {
      const fresh = await openTestDatabase({ kind });
      folder = mkdtempSync(join(tmpdir(), 'cbd-migrations-'));
      try {
        writeMigration(folder, '00001_first', 'create table first_model (id int primary key);');
        await migrate(fresh.sql, { path: folder });
        writeMigration(folder, '00002_second', 'create table second_model (id int primary key); insert into first_model values (1);');
        writeMigration(folder, '00003_broken', 'create table third_model (id int); select * from no_such_table;');
        await expect(migrate(fresh.sql, { path: folder })).rejects.toThrow(/no_such_table/);
        const afterFailure = await fresh.sql`select migration_id from migrations`;
        expect(afterFailure.map((r) => r.migration_id)).toEqual([1]);
        expect(await fresh.sql`select to_regclass('second_model') as t`).toEqual([{ t: null }]);

        writeMigration(folder, '00003_broken', 'create table third_model (id int);');
        await migrate(fresh.sql, { path: folder });
        const applied = await fresh.sql`select migration_id, name from migrations order by 1`;
        expect(applied.map((r) => `${r.migration_id} ${r.name}`)).toEqual(['1 first', '2 second', '3 broken']);
        expect(await fresh.sql`select id from first_model`).toEqual([{ id: 1 }]);
      } finally {
        await fresh.close();
      }
    });

    it('moves the place index to open incidents even after a rebuild died holding it deferred (00011)', async () => {
      const fresh = await openTestDatabase({ kind });
      folder = mkdtempSync(join(tmpdir(), 'cbd-migrations-'));
      const copy = (upTo: string) => {
        for (const entry of readdirSync(MIGRATIONS_DIR).filter((e) => /^[0-9]{5}_/.test(e) && e.slice(0, 5) <= upTo)) cpSync(join(MIGRATIONS_DIR, entry), join(folder, entry), { recursive: true });
      };
      const indexNames = async () =>
        (await fresh.sql<{ name: string }[]>`select indexname as name from pg_indexes where tablename = 'incident_board' and indexname like '%place%' order by 1`).map((r) => r.name);
      try {
        copy('00010');
        await migrate(fresh.sql, { path: folder });
        expect(await indexNames()).toEqual(['incident_board_place']);
        // What a rebuild that died midway leaves: the index dropped, its definition waiting to be built again.
        const [index] = await fresh.sql<{ definition: string }[]>`select indexdef as definition from pg_indexes where indexname = 'incident_board_place'`;
        await fresh.sql`drop index incident_board_place`;
        await fresh.sql`insert into rebuild_deferred_indexes (name, definition) values ('incident_board_place', ${index!.definition})`;

        copy('00011');
        await migrate(fresh.sql, { path: folder });
        expect(await indexNames()).toEqual(['incident_board_open_place']);
        expect(await fresh.sql`select name from rebuild_deferred_indexes`).toEqual([]);
        const [open] = await fresh.sql<{ definition: string }[]>`select indexdef as definition from pg_indexes where indexname = 'incident_board_open_place'`;
        expect(open!.definition).toMatch(/WHERE.*status.*reported.*triaged.*dispatched.*on_scene/);
      } finally {
        await fresh.close();
      }
    });

    it('does nothing for a folder without migrations', async () => {
      folder = mkdtempSync(join(tmpdir(), 'cbd-migrations-'));
      await expect(migrate(db.sql, { path: folder })).resolves.toBeUndefined();
    });
  });
}

it('the repository migrations folder holds the event store migration', () => {
  expect(MIGRATIONS_DIR.endsWith('/migrations/')).toBe(true);
});

function writeMigration(folder: string, name: string, sql: string): void {
  mkdirSync(join(folder, name), { recursive: true });
  writeFileSync(join(folder, name, 'index.sql'), sql);
}
