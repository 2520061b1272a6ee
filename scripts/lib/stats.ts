/**
 * PostgreSQL's percentile_cont: linear interpolation between the closest ranks, as GET /api/dashboard computes
 * its P50 and P90. Null for no values.
 */
export function percentileCont(values: readonly number[], fraction: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * fraction;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

export interface DurationKpi {
  p50: number | null;
  p90: number | null;
  n: number;
}

export function durationKpi(seconds: readonly number[]): DurationKpi {
  return { p50: percentileCont(seconds, 0.5), p90: percentileCont(seconds, 0.9), n: seconds.length };
}
