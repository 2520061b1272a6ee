import type { Sql } from 'postgres';
import {
  DEFAULT_DUPLICATE_RULES,
  DUPLICATES_SHOWN,
  findDuplicates,
  typesCompatibleWith,
  type DuplicateRules,
  type DuplicateSubject,
  type LikelyDuplicate,
} from '../../domain/index.ts';

const OPEN = ['reported', 'triaged', 'dispatched', 'on_scene'] as const;
/**
 * The statuses written into the statement itself, not passed as a parameter: the place index holds open incidents only
 * (migration 00011), and PostgreSQL uses a partial index only where the query's own text implies its condition.
 */
const IS_OPEN = `status in (${OPEN.map((s) => `'${s}'`).join(', ')})`;

/**
 * The open incidents that look most like the same event as `subject`, nearest first (at most DUPLICATES_SHOWN).
 * Read from the board (a moment behind the streams, which is fine for a warning); the rule itself is pure
 * (domain/decision/duplicates.ts). PostgreSQL keeps to a rough box around the place, the compatible types and the
 * open incidents (a merged duplicate is closed on the board), and hands over only the nearest few by distance in
 * degrees (east-west counts a little long, hence four times as many as are shown): a storm of calls about one fire
 * must not make every new report read hundreds of rows. The exact distance is the rule's. (Not a sum of squares:
 * PostgreSQL refuses a product that underflows, and coordinates near zero are valid input.)
 */
export async function likelyDuplicates(sql: Sql, subject: DuplicateSubject, rules: DuplicateRules = DEFAULT_DUPLICATE_RULES): Promise<LikelyDuplicate[]> {
  const dLat = rules.distanceM / 111_000 + 0.001;
  const cosLat = Math.max(0.1, Math.cos((subject.location.lat * Math.PI) / 180));
  const dLng = rules.distanceM / (111_000 * cosLat) + 0.001;
  const at = Date.parse(subject.reportedAt);
  const from = new Date(at - rules.windowMinutes * 60_000 - 1000).toISOString();
  const to = new Date(at + rules.windowMinutes * 60_000 + 1000).toISOString();
  const { lat, lng } = subject.location;
  const rows = await sql`
    select id, type, lat, lng, reported_at
      from incident_board
     where id <> ${subject.id}
       and lat between ${lat - dLat} and ${lat + dLat}
       and lng between ${lng - dLng} and ${lng + dLng}
       and reported_at between ${from}::timestamptz and ${to}::timestamptz
       and ${sql.unsafe(IS_OPEN)}
       and type = any(${typesCompatibleWith(subject.type, rules)}::text[])
     order by point(lng, lat) <-> point(${lng}, ${lat}), abs(extract(epoch from reported_at - ${subject.reportedAt}::timestamptz)), id
     limit ${4 * DUPLICATES_SHOWN}`;
  return findDuplicates(
    subject,
    rows.map((r) => ({
      id: String(r.id),
      type: String(r.type),
      location: { lat: Number(r.lat), lng: Number(r.lng) },
      reportedAt: r.reported_at instanceof Date ? r.reported_at.toISOString() : new Date(String(r.reported_at)).toISOString(),
      open: true,
    })),
    rules,
  ).slice(0, DUPLICATES_SHOWN);
}
