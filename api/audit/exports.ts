// An incident's full record for auditors: readable JSON, CSV for spreadsheets, and a signed bundle whose every
// event carries its hashes, so the verify tool can check it offline (npm run audit:verify -- --bundle file).
import type { Sql } from 'postgres';
import { GENESIS_HASH, canonicalJson, chainHash, contentHash } from '../../eventstore/hashChain.ts';
import { listCheckpoints, type Checkpoint } from './checkpoints.ts';
import { unsealReported, type PersonalDataVault } from './personalData.ts';
import { sign } from './secret.ts';

export interface RecordEvent {
  position: number;
  eventId: string;
  streamId: string;
  revision: number;
  type: string;
  /** As stored: personal data sealed. */
  data: unknown;
  metadata: Record<string, unknown>;
  recordedAt: string;
  contentHash: string | null;
  prevHash: string | null;
  hash: string | null;
}

/** Every stored event about the incident (its own stream, and its units' events naming it, and its erasures), in log order. */
export async function incidentEvents(sql: Sql, incidentId: string): Promise<RecordEvent[]> {
  const rows = await sql`
    select e.global_position, e.event_id::text as event_id, e.stream_id, e.stream_revision, e.type, e.data, e.metadata, e.recorded_at,
           e.content_hash, e.prev_hash, e.hash
      from event_log l join events e on e.event_id = l.event_id
     where l.incident_id = ${incidentId}
     order by l.seq`;
  const hex = (b: unknown) => (b instanceof Uint8Array ? Buffer.from(b).toString('hex') : null);
  return rows.map((r) => ({
    position: Number(r.global_position),
    eventId: String(r.event_id),
    streamId: String(r.stream_id),
    revision: Number(r.stream_revision),
    type: String(r.type),
    data: r.data,
    metadata: r.metadata as Record<string, unknown>,
    recordedAt: (r.recorded_at as Date).toISOString(),
    contentHash: hex(r.content_hash),
    prevHash: hex(r.prev_hash),
    hash: hex(r.hash),
  }));
}

export interface PersonalDataStatus {
  status: 'none' | 'held' | 'erased';
  erasedAt?: string;
  erasedBy?: string;
  reason?: string;
}

export async function personalDataStatus(vault: PersonalDataVault, incidentId: string): Promise<PersonalDataStatus> {
  const key = await vault.keyFor(incidentId);
  if (!key) return { status: 'none' };
  if (key.key) return { status: 'held' };
  return {
    status: 'erased',
    ...(key.erasedAt && { erasedAt: key.erasedAt.toISOString() }),
    ...(key.erasedBy && { erasedBy: key.erasedBy }),
    ...(key.reason && { reason: key.reason }),
  };
}

/** The readable record: personal data opened where the key still exists. */
export async function incidentRecord(sql: Sql, vault: PersonalDataVault, incidentId: string) {
  const events = await incidentEvents(sql, incidentId);
  const key = (await vault.keyFor(incidentId))?.key ?? null;
  return {
    incidentId,
    personalData: await personalDataStatus(vault, incidentId),
    events: events.map((e) => ({ ...e, data: e.type === 'IncidentReported' ? unsealReported(e.data, key, incidentId) : e.data })),
  };
}

const CSV_COLUMNS = [
  'position', 'occurredAt', 'recordedAt', 'streamId', 'revision', 'type', 'actor', 'role', 'agency', 'reason', 'commandId',
  'correlationId', 'causationId', 'requestId', 'clientAddress', 'data', 'hash',
] as const;

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  // A leading =, +, - or @ would run as a formula in a spreadsheet.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function recordCsv(record: Awaited<ReturnType<typeof incidentRecord>>): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const e of record.events) {
    const m = e.metadata;
    const row: Record<(typeof CSV_COLUMNS)[number], unknown> = {
      position: e.position,
      occurredAt: m.occurredAt,
      recordedAt: e.recordedAt,
      streamId: e.streamId,
      revision: e.revision,
      type: e.type,
      actor: m.actor,
      role: m.role,
      agency: m.agency,
      reason: m.reason,
      commandId: m.commandId,
      correlationId: m.$correlationId,
      causationId: m.$causationId,
      requestId: m.requestId,
      clientAddress: m.clientAddress,
      data: e.data,
      hash: e.hash,
    };
    lines.push(CSV_COLUMNS.map((c) => csvCell(row[c])).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

export interface Bundle {
  format: 'citybrain-audit-bundle/1';
  incidentId: string;
  exportedAt: string;
  exportedBy: string;
  personalData: PersonalDataStatus;
  events: RecordEvent[];
  checkpoint: Checkpoint | null;
  signature: string;
}

export async function incidentBundle(sql: Sql, vault: PersonalDataVault, key: Buffer, incidentId: string, exportedBy: string): Promise<Bundle> {
  const unsigned = {
    format: 'citybrain-audit-bundle/1' as const,
    incidentId,
    exportedAt: new Date().toISOString(),
    exportedBy,
    personalData: await personalDataStatus(vault, incidentId),
    events: await incidentEvents(sql, incidentId),
    checkpoint: (await listCheckpoints(sql)).at(-1) ?? null,
  };
  return { ...unsigned, signature: sign(key, unsigned) };
}

export interface BundleCheck {
  ok: boolean;
  signatureValid: boolean;
  events: number;
  firstBroken: { eventId: string; streamId: string; revision: number; problem: string } | null;
}

/** Checks a bundle without the database: its signature, each event against its hashes, and the links between them. */
export function verifyBundle(bundle: unknown, key: Buffer): BundleCheck {
  const b = bundle as Partial<Bundle> | null;
  if (!b || typeof b !== 'object' || b.format !== 'citybrain-audit-bundle/1' || !Array.isArray(b.events) || typeof b.signature !== 'string') {
    return { ok: false, signatureValid: false, events: 0, firstBroken: null };
  }
  const { signature, ...unsigned } = b;
  const signatureValid = sign(key, JSON.parse(canonicalJson(unsigned))) === signature;
  let firstBroken: BundleCheck['firstBroken'] = null;
  const last = new Map<string, { revision: number; hash: string | null }>();
  for (const e of b.events) {
    const fail = (problem: string) => {
      firstBroken ??= { eventId: e.eventId, streamId: e.streamId, revision: e.revision, problem };
    };
    const content = contentHash({ id: e.eventId, streamId: e.streamId, type: e.type, data: e.data, metadata: e.metadata });
    if (content !== e.contentHash) fail('its type, data or metadata no longer match its hash');
    else if (!e.prevHash || !e.hash || chainHash(e.prevHash, BigInt(e.revision), content) !== e.hash) fail('its hash does not follow from its content and the previous hash');
    else if (e.revision === 0 && e.prevHash !== GENESIS_HASH) fail('the first event of a stream must link to the genesis hash');
    const before = last.get(e.streamId);
    if (before && before.revision + 1 === e.revision && before.hash !== e.prevHash) fail('it does not link to the event before it');
    last.set(e.streamId, { revision: e.revision, hash: e.hash });
  }
  return { ok: signatureValid && !firstBroken, signatureValid, events: b.events.length, firstBroken };
}
