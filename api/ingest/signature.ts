import { createHmac, timingSafeEqual } from 'node:crypto';
import { HttpProblem } from '../http/problem.ts';

/** Headers a sensor gateway signs its webhook requests with. */
export const SOURCE_HEADER = 'x-citybrain-source';
export const TIMESTAMP_HEADER = 'x-citybrain-timestamp';
export const SIGNATURE_HEADER = 'x-citybrain-signature';

/**
 * `sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">` with the source's key. The timestamp is inside the
 * signed text, so a captured request cannot be given a fresh time.
 */
export function signAlarmRequest(key: string, timestamp: number | string, rawBody: string): string {
  return `sha256=${createHmac('sha256', key).update(`${timestamp}.${rawBody}`).digest('hex')}`;
}

/** The three headers for a body, signed now (or at `nowSeconds`). */
export function signedHeaders(source: string, key: string, rawBody: string, nowSeconds = Math.floor(Date.now() / 1000)): Record<string, string> {
  return { [SOURCE_HEADER]: source, [TIMESTAMP_HEADER]: String(nowSeconds), [SIGNATURE_HEADER]: signAlarmRequest(key, nowSeconds, rawBody) };
}

const refused = (slug: string, detail: string) => new HttpProblem(401, slug, 'Unauthorized', detail, {}, { 'WWW-Authenticate': 'HMAC-SHA256 realm="citybrain-ingest"' });

export interface VerifiedRequest {
  source: string;
  signature: string;
  signedAt: Date;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Checks source, timestamp and signature; throws a 401 problem that says which one is wrong. */
export function verifyAlarmRequest(
  sources: Record<string, string> | undefined,
  headers: Record<string, string | string[] | undefined>,
  rawBody: string,
  maxSkewSeconds: number,
  nowMs = Date.now(),
): VerifiedRequest {
  if (sources === undefined || Object.keys(sources).length === 0) {
    throw refused('ingest-not-configured', 'No alarm source is configured on this server (INGEST_SOURCES), so no webhook alarm can be accepted.');
  }
  const source = header(headers, SOURCE_HEADER);
  const timestamp = header(headers, TIMESTAMP_HEADER);
  const signature = header(headers, SIGNATURE_HEADER);
  if (!source || !timestamp || !signature) {
    const missing = [!source && SOURCE_HEADER, !timestamp && TIMESTAMP_HEADER, !signature && SIGNATURE_HEADER].filter(Boolean).join(', ');
    throw refused('signature-missing', `This alarm is not signed: the ${missing} header${missing.includes(',') ? 's are' : ' is'} missing. Sign each request with your source's HMAC key.`);
  }
  const key = Object.hasOwn(sources, source) ? sources[source] : undefined;
  if (key === undefined) throw refused('unknown-source', `"${source}" is not a known alarm source; ask an administrator to add it to INGEST_SOURCES.`);
  if (!/^\d{1,12}$/.test(timestamp)) {
    throw refused('bad-timestamp', `The ${TIMESTAMP_HEADER} header must be the signing time in whole seconds since 1970 (Unix time); got ${JSON.stringify(timestamp.slice(0, 40))}.`);
  }
  const expected = Buffer.from(signAlarmRequest(key, timestamp, rawBody));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw refused('bad-signature', `The signature does not match this request for source "${source}": the body was changed on the way, or it was signed with another key.`);
  }
  const skew = Math.round(nowMs / 1000 - Number(timestamp));
  if (Math.abs(skew) > maxSkewSeconds) {
    throw refused(
      'stale-timestamp',
      `This request was signed ${Math.abs(skew)} s ${skew > 0 ? 'ago' : 'in the future'}; only ±${maxSkewSeconds} s are accepted. A replayed or long-delayed request is refused; check the sensor gateway's clock if this is a fresh alarm.`,
    );
  }
  return { source, signature, signedAt: new Date(Number(timestamp) * 1000) };
}

export const replayedRequest = () =>
  refused('replayed-request', 'This exact signed request was already received: a replay is refused. To retry an alarm, sign it again with a fresh timestamp (the alarm id keeps it from being counted twice).');
