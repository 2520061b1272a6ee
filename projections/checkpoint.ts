import { START, type LogPosition } from '../eventstore/port.ts';
import { query, type Db, type Tx } from './readModels.ts';

export interface Checkpoint {
  position: LogPosition;
  /** How many events the projection has applied: the seq of its last event_log row. */
  seq: number;
}

export const ORIGIN: Checkpoint = { position: START, seq: 0 };

/** Another writer moved the checkpoint under us: this runner no longer owns the projection. */
export class CheckpointMovedError extends Error {
  override readonly name = 'CheckpointMovedError';
  constructor(
    readonly projection: string,
    readonly expected: Checkpoint,
    readonly found: Checkpoint | null,
  ) {
    super(
      `projection ${projection}: checkpoint is at ${found ? `seq ${found.seq} (${found.position})` : 'nothing'}, ` +
        `expected seq ${expected.seq} (${expected.position}); another projector wrote it`,
    );
  }
}

export async function readCheckpoint(db: Db | Tx, projection: string): Promise<Checkpoint | null> {
  const rows = await query<Array<{ position: string; seq: string }>>(db, 
    'select position, seq::text as seq from projection_checkpoints where projection = $1',
    [projection],
  );
  const row = rows[0];
  return row ? { position: row.position, seq: Number(row.seq) } : null;
}

/** Makes sure the row exists, so every batch can fence on it with a plain row lock. */
export async function ensureCheckpoint(db: Db | Tx, projection: string): Promise<Checkpoint> {
  await query(db, 'insert into projection_checkpoints (projection, position, seq) values ($1, $2, 0) on conflict (projection) do nothing', [
    projection,
    START,
  ]);
  return (await readCheckpoint(db, projection)) ?? ORIGIN;
}

/**
 * Locks the checkpoint row for the rest of the transaction and checks it is where this writer left it.
 * The advisory lock elects one projector, but a session lock can be lost (its connection dropped) while the
 * old holder still has a batch in flight; this fence makes the loser's transaction fail instead of applying
 * events a second time.
 */
export async function lockCheckpoint(tx: Tx, projection: string, expected: Checkpoint): Promise<void> {
  const rows = await query<Array<{ position: string; seq: string }>>(tx, 
    'select position, seq::text as seq from projection_checkpoints where projection = $1 for update',
    [projection],
  );
  const row = rows[0];
  const found = row ? { position: row.position, seq: Number(row.seq) } : null;
  if (!found || found.position !== expected.position || found.seq !== expected.seq) {
    throw new CheckpointMovedError(projection, expected, found);
  }
}

/** SQLSTATE of projection_checkpoint_moved() (migrations/00008_projection_fence). */
export const CHECKPOINT_MOVED = 'CB001';

/**
 * Moves the checkpoint from `expected` to `next`, or fails the transaction when it is not at `expected` (another
 * projector moved it): lockCheckpoint and writeCheckpoint in one statement, for a batch whose COMMIT is already on
 * its way behind it.
 */
export async function moveCheckpoint(tx: Tx, projection: string, expected: Checkpoint, next: Checkpoint): Promise<void> {
  await query(
    tx,
    `with moved as (
       update projection_checkpoints set position = $2, seq = $3, updated_at = now()
        where projection = $1 and position = $4 and seq = $5
       returning 1)
     select case when exists (select 1 from moved) then true else projection_checkpoint_moved($1) end as moved`,
    [projection, next.position, String(next.seq), expected.position, String(expected.seq)],
  );
}

export function isCheckpointMoved(error: unknown): boolean {
  return error instanceof CheckpointMovedError || (typeof error === 'object' && error !== null && (error as { code?: unknown }).code === CHECKPOINT_MOVED);
}

export async function writeCheckpoint(tx: Tx, projection: string, next: Checkpoint): Promise<void> {
  await query(tx, 'update projection_checkpoints set position = $2, seq = $3, updated_at = now() where projection = $1', [
    projection,
    next.position,
    String(next.seq),
  ]);
}
