// A day in Ji'an (吉安) for the simulator: what happens when, and where.
import type { IncidentType } from '../../domain/catalog.ts';

/** The built-up area of Ji'an, both banks of the Gan River. */
export const JIAN_BOUNDS = { south: 27.05, north: 27.16, west: 114.9, east: 115.06 };

/** Incidents per hour across the whole city at each hour of the day (quiet nights, busy rush hours and evenings). */
export const INCIDENTS_PER_HOUR: readonly number[] = [
  6, 4, 3, 3, 3, 4, 7, 12, 16, 14, 12, 12, 13, 12, 12, 13, 15, 18, 17, 15, 13, 11, 9, 7,
];

/** Which incidents the hour brings, as relative weights: traffic at rush hour, public order at night. */
export function typeWeights(hour: number): Array<[IncidentType, number]> {
  const rush = (hour >= 7 && hour <= 9) || (hour >= 17 && hour <= 19);
  const night = hour >= 22 || hour <= 4;
  const work = hour >= 8 && hour <= 18;
  return [
    ['medical', 30],
    ['traffic_accident', rush ? 22 : 10],
    ['traffic_accident_injuries', rush ? 8 : 3],
    ['traffic_congestion', rush ? 14 : 3],
    ['public_order', night ? 16 : 8],
    ['crime_in_progress', night ? 4 : 2],
    ['fire', 4],
    ['fire_alarm', 4],
    ['gas_leak', 2],
    ['hazmat', work ? 1 : 0.3],
    ['work_safety_violation', work ? 5 : 0.2],
    ['illegal_construction', work ? 4 : 0.2],
    ['urban_management', work ? 8 : 1],
    ['flooding', 1],
  ];
}

/** A seeded PRNG (mulberry32): the same seed gives the same day. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(rand: () => number, weighted: ReadonlyArray<[T, number]>): T {
  const total = weighted.reduce((sum, [, w]) => sum + w, 0);
  let x = rand() * total;
  for (const [value, w] of weighted) {
    x -= w;
    if (x < 0) return value;
  }
  return weighted[weighted.length - 1]![0];
}

/** Poisson-distributed count with mean `lambda` (Knuth; lambda is small per tick). */
export function poisson(rand: () => number, lambda: number): number {
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = rand();
  while (p > limit) {
    k++;
    p *= rand();
  }
  return k;
}

export interface Point {
  lat: number;
  lng: number;
}

export function randomPoint(rand: () => number): Point {
  const b = JIAN_BOUNDS;
  return { lat: b.south + rand() * (b.north - b.south), lng: b.west + rand() * (b.east - b.west) };
}

/** Great-circle distance in km. */
export function distanceKm(a: Point, b: Point): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

/** The point `km` along the straight line from a to b (b itself once the line is shorter). */
export function towards(a: Point, b: Point, km: number): Point {
  const total = distanceKm(a, b);
  if (total <= km || total === 0) return { ...b };
  const f = km / total;
  return { lat: a.lat + (b.lat - a.lat) * f, lng: a.lng + (b.lng - a.lng) * f };
}

/** Compass heading from a to b, degrees 0–360. */
export function heading(a: Point, b: Point): number {
  const deg = (Math.atan2((b.lng - a.lng) * Math.cos((a.lat * Math.PI) / 180), b.lat - a.lat) * 180) / Math.PI;
  return (deg + 360) % 360;
}
