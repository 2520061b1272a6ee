import { describe, expect, it } from 'vitest';
import { fold } from '../../domain/decider.ts';
import { currentSchemaVersion, incidentStream, isIncidentEvent, parseStream, unitStream } from '../../domain/events.ts';
import { incidentDecider } from '../../domain/incident/incident.decider.ts';
import { incidentView } from '../../domain/incident/incident.view.ts';
import { UpcastError, upcast, upcastEvent } from '../../domain/upcast.ts';
import { INCIDENT_ID, assignedE1, reported, triaged } from './fixtures.ts';

// How IncidentReported looked when it was first stored: flat coordinates.
const storedV1 = {
  incidentId: INCIDENT_ID,
  type: 'traffic_accident_injuries',
  priority: 2,
  lat: 27.1138,
  lng: 114.9865,
  address: 'Jinggangshan Avenue at Luling Road',
  description: 'Two cars, one driver trapped',
  source: 'phone',
  agencies: ['traffic', 'ems', 'fire'],
};

describe('upcast', () => {
  it('reads a stored v1 IncidentReported as the current v2', () => {
    expect(currentSchemaVersion('IncidentReported')).toBe(2);
    expect(upcast('IncidentReported', 1, storedV1)).toEqual(reported.data);
  });

  it('folds the upcast history into the same state as the current one', () => {
    const first = upcastEvent({ type: 'IncidentReported', schemaVersion: 1, data: storedV1 });
    if (!isIncidentEvent(first)) throw new Error('expected an incident event');
    const fromV1 = fold(incidentDecider, [first, triaged, assignedE1]);
    const fromV2 = fold(incidentDecider, [reported, triaged, assignedE1]);
    expect(fromV1.value).toEqual(fromV2.value);
    expect(fromV1.context).toEqual(fromV2.context);
    expect(incidentView(fromV1)).toEqual(incidentView(fromV2));
  });

  it('passes current versions through unchanged', () => {
    expect(upcast('IncidentReported', 2, reported.data)).toBe(reported.data);
    expect(upcast('IncidentTriaged', 1, triaged.data)).toBe(triaged.data);
  });

  it('counts a missing version as v1', () => {
    expect(upcast('IncidentReported', undefined, storedV1)).toEqual(reported.data);
  });

  it('refuses a version newer than this code knows', () => {
    expect(() => upcast('IncidentReported', 3, reported.data)).toThrow(UpcastError);
    expect(() => upcast('IncidentReported', 3, reported.data)).toThrow(/IncidentReported v3 was written by a newer version/);
    expect(() => upcast('UnitRegistered', 2, {})).toThrow(/newer version/);
  });

  it('refuses nonsense versions and corrupt v1 payloads', () => {
    expect(() => upcast('IncidentReported', 0, storedV1)).toThrow(UpcastError);
    expect(() => upcast('IncidentReported', 1.5, storedV1)).toThrow(UpcastError);
    expect(() => upcast('IncidentReported', 1, { ...storedV1, lat: undefined })).toThrow(/no numeric lat\/lng/);
  });

  it('leaves event types the domain does not own alone', () => {
    const data = { anything: true };
    expect(upcast('SomeoneElsesEvent', 7, data)).toBe(data);
    expect(() => upcastEvent({ type: 'SomeoneElsesEvent', data })).toThrow(UpcastError);
  });
});

describe('event catalogue and streams', () => {
  it('knows the current version of every domain event and none other', () => {
    expect(currentSchemaVersion('UnitDispatched')).toBe(1);
    expect(() => currentSchemaVersion('Nope')).toThrow(/Unknown event type/);
  });

  it('names one stream per aggregate', () => {
    expect(incidentStream('abc')).toBe('incident-abc');
    expect(unitStream('abc')).toBe('unit-abc');
    expect(parseStream('incident-abc')).toEqual({ category: 'incident', id: 'abc' });
    expect(parseStream('unit-01900000-0000-7000-9000-000000000e12')).toEqual({ category: 'unit', id: '01900000-0000-7000-9000-000000000e12' });
    expect(parseStream('$projections-x')).toBeNull();
    expect(parseStream('incident-')).toBeNull();
  });
});
