import { createHmac } from 'node:crypto';
import { canonicalJson } from '../../eventstore/hashChain.ts';

/**
 * The key that signs checkpoints and export bundles: AUDIT_SECRET when configured, else one derived from the
 * JWT secret (so a demo install signs without extra setup). Anyone who can check a signature can also make one:
 * give it only to auditors' tools.
 */
export function auditKey(config: { auditSecret?: string; jwtSecret: string }): Buffer {
  if (config.auditSecret) return Buffer.from(config.auditSecret, 'utf8');
  return createHmac('sha256', config.jwtSecret).update('citybrain audit signing key v1').digest();
}

export function sign(key: Buffer, value: unknown): string {
  return createHmac('sha256', key).update(canonicalJson(value)).digest('hex');
}
