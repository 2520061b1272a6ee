import { createHash } from 'node:crypto';

/**
 * The tamper-evidence hashes of the event store, the same on every adapter:
 *
 *   contentHash = SHA-256(canonicalJson({ id, streamId, type, data, metadata }))
 *   hash        = SHA-256(prevHash || revision as 8 bytes big-endian || contentHash)
 *
 * where prevHash is the hash of the stream's previous event (32 zero bytes before the first). Editing an
 * event's data or metadata changes its contentHash; moving, removing or inserting one breaks the links.
 */
export const GENESIS_HASH = '0'.repeat(64);

/** Metadata keys an adapter adds for the chain itself (EventStoreDB keeps the hashes in the metadata). */
export const CHAIN_METADATA_KEY = '$audit';

/** JSON with object keys sorted (by code unit), no whitespace: one text per value, whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    // undefined, functions and symbols have no JSON form; inside arrays JSON writes null for them.
    return text === undefined ? 'null' : text;
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return canonicalJson((value as { toJSON: () => unknown }).toJSON());
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha256Hex(input: string | Buffer): string {
  return createHash('sha256').update(input).digest('hex');
}

export interface HashableEvent {
  id: string;
  streamId: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
}

export function contentHash(event: HashableEvent): string {
  const { [CHAIN_METADATA_KEY]: _chain, ...metadata } = event.metadata ?? {};
  return sha256Hex(
    canonicalJson({ id: event.id.toLowerCase(), streamId: event.streamId, type: event.type, data: event.data ?? null, metadata }),
  );
}

export function chainHash(prevHash: string, revision: bigint, content: string): string {
  const rev = Buffer.alloc(8);
  rev.writeBigInt64BE(revision);
  return createHash('sha256').update(Buffer.from(prevHash, 'hex')).update(rev).update(Buffer.from(content, 'hex')).digest('hex');
}

/** The next link of the global running chain over event hashes in log order. */
export function globalChainStep(previous: string, eventHash: string): string {
  return createHash('sha256').update(Buffer.from(previous, 'hex')).update(Buffer.from(eventHash, 'hex')).digest('hex');
}
