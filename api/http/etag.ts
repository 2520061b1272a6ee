import { badRequest } from './problem.ts';

/** A stream revision as an ETag. Strong: two responses with the same revision carry the same record. */
export function etagFor(revision: bigint | number): string {
  return `"${String(revision)}"`;
}

/**
 * The revision a client's If-Match asks for, or undefined when it asks for none (absent or `*`).
 * Weak tags are accepted for convenience; a list of tags is accepted when they all name the same revision.
 */
export function parseIfMatch(header: string | string[] | undefined): bigint | undefined {
  if (header === undefined) return undefined;
  const raw = (Array.isArray(header) ? header.join(',') : header).trim();
  if (raw === '' || raw === '*') return undefined;
  const revisions = new Set<string>();
  for (const part of raw.split(',')) {
    const match = /^(?:W\/)?"?(\d{1,18})"?$/.exec(part.trim());
    if (!match) throw badRequest(`If-Match must be an ETag from a response of this API, like "3"; got ${JSON.stringify(raw.slice(0, 60))}.`, { field: 'if-match' });
    revisions.add(match[1]!);
  }
  if (revisions.size > 1) throw badRequest('If-Match names more than one revision; send the one you last saw.', { field: 'if-match' });
  return BigInt([...revisions][0]!);
}
