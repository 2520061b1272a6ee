import { createHash } from 'node:crypto';
import { v7 } from 'uuid';

/**
 * Fixed forever: changing it would give a retried command new event ids and defeat idempotency
 * for every command recorded before the change.
 */
const EVENT_ID_NAMESPACE = '5b1f6c1e-6a43-4b53-9a0e-2f6d3c1b7e90';

const namespaceBytes = new Map<string, Buffer>();

function bytesOf(namespace: string): Buffer {
  let bytes = namespaceBytes.get(namespace);
  if (!bytes) {
    const hex = namespace.replace(/-/g, '');
    if (!/^[0-9a-f]{32}$/i.test(hex)) throw new TypeError(`not a UUID namespace: ${namespace}`);
    bytes = Buffer.from(hex, 'hex');
    namespaceBytes.set(namespace, bytes);
  }
  return bytes;
}

/**
 * A name-based UUID (version 5, RFC 9562 §5.5): SHA-1 of the namespace's 16 bytes and the name's UTF-8, with the
 * version and variant bits set. The same ids as the `uuid` package's v5, made with node:crypto's native SHA-1
 * (every command and every event needs one; the package hashes in JavaScript, 5 % of the server's time at 500
 * commands/s).
 */
export function nameBasedId(name: string, namespace: string): string {
  const hash = createHash('sha1').update(bytesOf(namespace)).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The id of the `index`-th event a command writes to a stream. A retried command yields the same ids,
 * so the store recognises the retry and writes nothing new.
 */
export function eventIdFor(commandId: string, streamId: string, index: number): string {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`event index must be a non-negative integer, got ${index}`);
  // JSON keeps the parts apart: "a/b"+"c" and "a"+"b/c" must not collide.
  return nameBasedId(JSON.stringify([commandId, streamId, index]), EVENT_ID_NAMESPACE);
}

/** A time-ordered id (UUID v7) for aggregates and commands: index-friendly and sortable by creation. */
export function newId(): string {
  return v7();
}
