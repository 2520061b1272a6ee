import type { Sql } from 'postgres';
import { DEFAULT_DUPLICATE_RULES, findDuplicates, type DuplicateRules, type DuplicateSubject, type LikelyDuplicate } from '../../domain/index.ts';

const OPEN = ['reported', 'triaged', 'dispatched', 'on_scene'];

/**
 * Open incidents that look like the same event as `subject`. Read from the board (a moment behind the streams,
 * which is fine for a warning); the rule itself is pure (domain/decision/duplicates.ts). A rough box around the
 * place keeps the read small, and only open incidents come back (a busy spot collects hundreds of closed ones);
 * the exact distance is the rule's.
 */
export async function likelyDuplicates(sql: Sql, subject: DuplicateSubject, rules: DuplicateRules = DEFAULT_DUPLICATE_RULES): Promise<LikelyDuplicate[]> {
  const dLat = rules.distanceM / 111_000 + 0.001;
  const dLng = rules.distanceM / (111_000 * Math.max(0.1, Math.cos((subject.location.lat * Math.PI) / 180))) + 0.001;
  const at = Date.parse(subject.reportedAt);
  const from = new Date(at - rules.windowMinutes * 60_000 - 1000).toISOString();
  const to = new Date(at + rules.windowMinutes * 60_000 + 1000).toISOString();
  const rows = await sql`
    select id, type, lat, lng, reported_at, status, coordination ->> 'mergedInto' as merged_into
      from incident_board
     where id <> ${subject.id}
       and lat between ${subject.location.lat - dLat} and ${subject.location.lat + dLat}
       and lng between ${subject.location.lng - dLng} and ${subject.location.lng + dLng}
       and reported_at between ${from}::timestamptz and ${to}::timestamptz
       and status = any(${OPEN}::text[])
       and coordination ->> 'mergedInto' is null`;
  return findDuplicates(
    subject,
    rows.map((r) => ({
      id: String(r.id),
      type: String(r.type),
      location: { lat: Number(r.lat), lng: Number(r.lng) },
      reportedAt: r.reported_at instanceof Date ? r.reported_at.toISOString() : new Date(String(r.reported_at)).toISOString(),
      open: OPEN.includes(String(r.status)) && r.merged_into === null,
    })),
    rules,
  );
}
