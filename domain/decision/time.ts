// Calendar arithmetic on given instants (never the current one): the domain adds days and minutes to times it
// was told, and writes them back in the ISO-8601 form every event uses.

/** Epoch milliseconds → "YYYY-MM-DDTHH:MM:SS.mmmZ" (proleptic Gregorian, UTC). */
export function isoFromEpochMs(ms: number): string {
  const days = Math.floor(ms / 86_400_000);
  const rest = ms - days * 86_400_000;
  // Days to civil date (Howard Hinnant's algorithm).
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const h = Math.floor(rest / 3_600_000);
  const m = Math.floor((rest % 3_600_000) / 60_000);
  const s = Math.floor((rest % 60_000) / 1000);
  const milli = rest % 1000;
  return `${year < 0 ? '-' : ''}${pad(Math.abs(year), 4)}-${pad(month)}-${pad(day)}T${pad(h)}:${pad(m)}:${pad(s)}.${pad(milli, 3)}Z`;
}

/** An ISO time in canonical form (the same instant written the way the domain writes it). */
export function canonicalIso(iso: string): string | null {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : isoFromEpochMs(ms);
}
