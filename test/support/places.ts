// Where load generators put their incidents: Ji'an's centre, and places spread over it as a day's calls are.

export const JIAN_CENTRE = { lat: 27.1138, lng: 114.9865 } as const;

/**
 * Place number `n` of a well-mixed sequence over the city's centre (about 15 × 17 km). Not all on one spot, where every
 * new report would be a likely duplicate of every open one there and the duplicate check would measure that spot.
 */
export function placeInCentre(n: number): { lat: number; lng: number } {
  // Knuth's multiplicative hash on 32 bits.
  const spread = (k: number) => (Math.imul(k, 2654435761) >>> 0) / 4294967296;
  return { lat: JIAN_CENTRE.lat - 0.07 + 0.14 * spread(n), lng: JIAN_CENTRE.lng - 0.08 + 0.16 * spread(n + 7919) };
}
