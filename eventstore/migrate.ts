import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type postgres from 'postgres';
import shift from 'postgres-shift';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Sql = postgres.Sql<any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type TransactionSql = postgres.TransactionSql<any>;

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

/** Arbitrary but fixed: every process migrating this database must contend for the same key. */
const MIGRATION_LOCK_KEY = '7403871200196531';

export interface MigrateOptions {
  /** A postgres-shift folder: entries named 00001_name, 00002_name, … each a .sql/.js file or a folder with index.sql/index.js. */
  path?: string;
  log?: (message: string) => void;
}

/**
 * Applies every pending migration with postgres-shift, all in one transaction under an advisory lock:
 * two processes starting at once apply each migration exactly once, and a failed migration leaves
 * the database as it was.
 *
 * postgres-shift records applied migrations in a `migrations` table (migration_id, created_at, name)
 * and applies entries whose number is above the highest recorded one.
 */
export async function migrate(sql: Sql, options: MigrateOptions = {}): Promise<void> {
  const path = options.path ?? MIGRATIONS_DIR;
  // postgres-shift reads an empty folder as corrupt numbering; nothing to apply is not an error.
  if (!readdirSync(path).some((entry) => /^[0-9]{5}_/.test(entry))) return;
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY}::bigint)`;
    // postgres-shift probes for its table with a query that fails when it is missing; inside a transaction
    // that failure would abort everything, so the table is created first, with postgres-shift's own shape.
    const [probe] = await tx<{ exists: boolean }[]>`select to_regclass('migrations') is not null as exists`;
    if (!probe?.exists) {
      await tx`
        create table migrations (
          migration_id serial primary key,
          created_at timestamp with time zone not null default now(),
          name text
        )`;
    }
    await shift({
      sql: withinTransaction(tx),
      path,
      after: (m) => options.log?.(`applied migration ${m.migration_id} ${m.name}`),
    });
  });
}

/**
 * postgres-shift opens its own transaction with sql.begin; here it runs inside ours instead, as a savepoint,
 * so the advisory lock covers its reads as well as its writes.
 */
function withinTransaction(tx: TransactionSql): Sql {
  const facade = ((...args: Parameters<TransactionSql>) => tx(...args)) as unknown as Record<string, unknown>;
  Object.assign(facade, tx, {
    begin: (fn: (sql: TransactionSql) => Promise<unknown>) => tx.savepoint(fn),
  });
  return facade as unknown as Sql;
}
