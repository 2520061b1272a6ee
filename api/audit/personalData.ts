// Personal data (an incident's reporter name and phone) is stored sealed with a key of its own incident, so a
// lawful erasure destroys the key and nothing else: the events, their hashes and every checkpoint stay as they
// were and still verify, while the name and number can no longer be read by anyone.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { Sql } from 'postgres';
import { INCIDENT_STREAM_PREFIX } from '../../domain/index.ts';
import type {
  AppendResult,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  ReadAllOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from '../../eventstore/port.ts';

const SEALED_PREFIX = 'pii:v1:';
export const PERSONAL_FIELDS = ['name', 'phone'] as const;
const REPORTED = 'IncidentReported';

export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(SEALED_PREFIX);
}

export interface KeyRecord {
  key: Buffer | null;
  erasedAt: Date | null;
  erasedBy: string | null;
  reason: string | null;
}

/** The per-incident keys (personal_data_keys). A key once erased is never made again for that incident. */
export class PersonalDataVault {
  constructor(private readonly sql: Sql) {}

  async keyFor(incidentId: string): Promise<KeyRecord | undefined> {
    const [row] = await this.sql<{ key: Buffer | null; erased_at: Date | null; erased_by: string | null; erasure_reason: string | null }[]>`
      select key, erased_at, erased_by, erasure_reason from personal_data_keys where incident_id = ${incidentId}`;
    return row && { key: row.key, erasedAt: row.erased_at, erasedBy: row.erased_by, reason: row.erasure_reason };
  }

  /** The incident's key, made on first use; null when it has been erased. */
  async ensureKey(incidentId: string): Promise<Buffer | null> {
    await this.sql`
      insert into personal_data_keys (incident_id, key) values (${incidentId}, ${randomBytes(32)})
      on conflict (incident_id) do nothing`;
    return (await this.keyFor(incidentId))?.key ?? null;
  }

  /** Destroys the key. False when there was none to destroy (never had personal data, or already erased). */
  async erase(incidentId: string, by: string, reason: string): Promise<{ erased: boolean; erasedAt: Date }> {
    const rows = await this.sql<{ erased_at: Date }[]>`
      insert into personal_data_keys (incident_id, key, erased_at, erased_by, erasure_reason)
      values (${incidentId}, null, now(), ${by}, ${reason})
      on conflict (incident_id) do update set key = null, erased_at = now(), erased_by = ${by}, erasure_reason = ${reason}
        where personal_data_keys.key is not null
      returning erased_at`;
    if (rows[0]) return { erased: true, erasedAt: rows[0].erased_at };
    const existing = await this.keyFor(incidentId);
    return { erased: false, erasedAt: existing?.erasedAt ?? new Date() };
  }
}

/**
 * AES-256-GCM with a synthetic IV (HMAC of the key over incident, field and text): sealing the same report twice
 * gives the same text, so a retried command is still recognised as a retry by the store's idempotency check,
 * and two different texts never share an IV. The incident id and field are bound in as associated data, so a
 * sealed value cannot be moved to another incident or field.
 */
export function seal(key: Buffer, context: string, field: string, plain: string): string {
  const iv = createHmac('sha256', key).update(`${context}\n${field}\n${plain}`).digest().subarray(0, 12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`${context}\n${field}`));
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

export function unseal(key: Buffer, context: string, field: string, sealed: string): string | undefined {
  try {
    const raw = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(`${context}\n${field}`));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

type Reporter = Partial<Record<(typeof PERSONAL_FIELDS)[number], unknown>>;

function reporterOf(data: unknown): Reporter | undefined {
  const reporter = (data as { reporter?: unknown } | null)?.reporter;
  return reporter !== null && typeof reporter === 'object' && !Array.isArray(reporter) ? (reporter as Reporter) : undefined;
}

/** IncidentReported data with the reporter's fields sealed (or dropped, if the key is already erased). */
export function sealReported(data: unknown, key: Buffer | null, context: string): unknown {
  const reporter = reporterOf(data);
  if (!reporter) return data;
  const sealed: Record<string, unknown> = { ...reporter };
  for (const field of PERSONAL_FIELDS) {
    const value = reporter[field];
    if (typeof value !== 'string' || isSealed(value)) continue;
    if (key) sealed[field] = seal(key, context, field, value);
    else delete sealed[field];
  }
  return { ...(data as Record<string, unknown>), reporter: sealed };
}

/** The reverse: readable fields where the key still exists, none where it was erased. Works on views too. */
export function unsealReported(data: unknown, key: Buffer | null, context: string): unknown {
  const reporter = reporterOf(data);
  if (!reporter) return data;
  const open: Record<string, unknown> = { ...reporter };
  for (const field of PERSONAL_FIELDS) {
    const value = reporter[field];
    if (!isSealed(value)) continue;
    const plain = key ? unseal(key, context, field, value) : undefined;
    if (plain === undefined) delete open[field];
    else open[field] = plain;
  }
  const { reporter: _r, ...rest } = data as Record<string, unknown>;
  return Object.keys(open).length > 0 ? { ...rest, reporter: open } : rest;
}

export function incidentIdOfStream(streamId: string): string | undefined {
  return streamId.startsWith(INCIDENT_STREAM_PREFIX) ? streamId.slice(INCIDENT_STREAM_PREFIX.length) : undefined;
}

/**
 * The event store as the command side sees it: reporters are sealed on the way in and opened on the way out.
 * What is stored — and so what every projection, export and hash sees — is only ever the sealed form.
 */
export class PersonalDataStore implements EventStore {
  readonly name: string;

  constructor(
    private readonly inner: EventStore,
    readonly vault: PersonalDataVault,
  ) {
    this.name = inner.name;
  }

  async append(streamId: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    const incidentId = incidentIdOfStream(streamId);
    if (incidentId === undefined || !events.some((e) => e.type === REPORTED && reporterOf(e.data))) {
      return this.inner.append(streamId, events, expected);
    }
    const key = await this.vault.ensureKey(incidentId);
    return this.inner.append(
      streamId,
      events.map((e) => (e.type === REPORTED ? { ...e, data: sealReported(e.data, key, incidentId) } : e)),
      expected,
    );
  }

  async readStream(streamId: string, options?: { fromRevision?: bigint; maxCount?: number }): Promise<RecordedEvent[]> {
    return this.open(await this.inner.readStream(streamId, options));
  }

  async readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.open(await this.inner.readAll(options));
  }

  subscribe(options: SubscribeOptions, handler: (batch: RecordedEvent[]) => Promise<void>): Subscription {
    return this.inner.subscribe(options, async (batch) => handler(await this.open(batch)));
  }

  /** The wrapped store belongs to whoever built it. */
  async close(): Promise<void> {}

  async open(events: RecordedEvent[]): Promise<RecordedEvent[]> {
    const keys = new Map<string, Buffer | null>();
    const out: RecordedEvent[] = [];
    for (const event of events) {
      const incidentId = incidentIdOfStream(event.streamId);
      if (event.type !== REPORTED || incidentId === undefined || !reporterOf(event.data)) {
        out.push(event);
        continue;
      }
      if (!keys.has(incidentId)) keys.set(incidentId, (await this.vault.keyFor(incidentId))?.key ?? null);
      out.push({ ...event, data: unsealReported(event.data, keys.get(incidentId) ?? null, incidentId) });
    }
    return out;
  }
}
