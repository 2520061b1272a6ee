import { describe, expect, it } from 'vitest';
import { AGENCIES, primaryUnitType, UNIT_TYPES } from '../../domain/catalog.ts';

describe('the catalog', () => {
  it("names each agency's everyday unit: one of its own types, the first listed", () => {
    expect(Object.fromEntries(AGENCIES.map((a) => [a, primaryUnitType(a)]))).toEqual({
      police: 'patrol_car',
      traffic: 'traffic_patrol',
      fire: 'engine',
      ems: 'ambulance',
      safety: 'inspection_team',
      urban: 'enforcement_team',
    });
    for (const agency of AGENCIES) expect(UNIT_TYPES.find((t) => t.id === primaryUnitType(agency))?.agency).toBe(agency);
  });
});
