import { describe, expect, it } from 'vitest';
import { fold } from '../../domain/decider.ts';
import { currentSchemaVersion } from '../../domain/events.ts';
import { incidentCoordination, incidentView } from '../../domain/incident/incident.view.ts';
import { incidentDecider } from '../../domain/incident/incident.decider.ts';
import type { IncidentEvent } from '../../domain/incident/incident.events.ts';
import { responsePlan } from '../../domain/plans/runCards.ts';
import { isoFromEpochMs } from '../../domain/decision/time.ts';
import { spec } from '../support/givenWhenThen.ts';
import { A3, E1, OTHER_INCIDENT_ID, assignedA3, assignedE1, reported, triaged, unitStatus } from './fixtures.ts';

const incident = spec(incidentDecider);
const T7 = '01900000-0000-7000-9000-0000000000f7';
const assignedT7: IncidentEvent = { type: 'UnitAssignedToIncident', data: { unitId: T7, agency: 'traffic', callSign: 'T7', unitType: 'traffic_patrol' } };
const allCleared = [reported, triaged, assignedE1, assignedA3, assignedT7, unitStatus(E1, 'cleared'), unitStatus(A3, 'cleared'), unitStatus(T7, 'cleared')];
const done = (agency: 'traffic' | 'ems' | 'fire'): IncidentEvent => ({ type: 'IncidentLegCompleted', data: { agency } });

describe('legs', () => {
  it('the last leg completed resolves the incident', () => {
    incident
      .given([...allCleared, done('fire'), done('ems')])
      .when({ type: 'CompleteLeg', data: { agency: 'traffic', summary: 'Road open' } })
      .then([
        { type: 'IncidentLegCompleted', data: { agency: 'traffic', summary: 'Road open' } },
        { type: 'IncidentResolved', data: { summary: 'Every agency completed its leg; last: traffic — Road open' } },
      ]);
  });

  it('the lead agency finishes last: it hands the lead over first', () => {
    incident.given(allCleared).when({ type: 'CompleteLeg', data: { agency: 'traffic' } }).thenThrows('invalid_state', /traffic leads INC-1a2b3c4d and ems and fire are still working; hand the lead to one of them/);
  });

  it('a leg with units still working cannot be completed', () => {
    incident.given([reported, triaged, assignedE1]).when({ type: 'CompleteLeg', data: { agency: 'fire' } }).thenThrows('invalid_state', /clear E1 first/);
  });

  it('a requested agency must accept before its units are assigned', () => {
    incident
      .given([reported, triaged, { type: 'MutualAidRequested', data: { agency: 'police', requestedBy: 'traffic' } }])
      .when({ type: 'RecordUnitAssignment', data: { unitId: 'p1', agency: 'police', callSign: 'P1' } })
      .thenThrows('invalid_state', /police has been asked for mutual aid .* but has not accepted yet/);
  });

  it('mutual aid brings the agency in; accepting gives its leg an owner', () => {
    const state = fold(incidentDecider, [
      reported,
      triaged,
      { type: 'MutualAidRequested', data: { agency: 'police', requestedBy: 'traffic', note: 'Crowd' } },
      { type: 'MutualAidAccepted', data: { agency: 'police', owner: 'user-p' } },
    ]);
    expect(incidentView(state)!.agencies).toEqual(['traffic', 'ems', 'fire', 'police']);
    expect(incidentCoordination(state)!.legs.find((l) => l.agency === 'police')).toMatchObject({ status: 'pending', owner: 'user-p', requestedBy: 'traffic', note: 'Crowd' });
  });

  it('applies the response plan and counts units by type: what is missing', () => {
    const view = incidentCoordination(fold(incidentDecider, [reported, triaged, assignedT7, { type: 'UnitAssignedToIncident', data: { unitId: A3, agency: 'ems', callSign: 'A3', unitType: 'ambulance' } } as IncidentEvent]))!;
    expect(view.planId).toBe('traffic_accident_injuries/P2');
    expect(view.missing).toEqual([
      { agency: 'ems', unitType: 'ambulance', count: 1 },
      { agency: 'fire', unitType: 'rescue', count: 1 },
    ]);
    expect(responsePlan('traffic_accident_injuries', 1).agencies.map((a) => a.agency)).toEqual(['traffic', 'ems', 'fire']);
  });

  it('old streams fold: assignments recorded before unit types were kept still count as units of their leg', () => {
    const view = incidentCoordination(fold(incidentDecider, [reported, triaged, assignedE1]))!;
    expect(view.legs.find((l) => l.agency === 'fire')).toMatchObject({ status: 'dispatched', units: [{ unitId: E1, callSign: 'E1', status: 'dispatched' }] });
    // The unit's type is unknown, so the plan's rescue truck still shows as missing.
    expect(view.legs.find((l) => l.agency === 'fire')!.missing).toEqual([{ unitType: 'rescue', count: 1 }]);
  });
});

describe('merge and split', () => {
  it('a split puts a merged incident back exactly where it was', () => {
    const before = fold(incidentDecider, [reported, triaged, assignedE1, unitStatus(E1, 'cleared')]);
    const events = [
      ...incidentDecider.decide({ type: 'MergeIntoPrimary', data: { primaryId: OTHER_INCIDENT_ID } }, before),
    ];
    const merged = events.reduce(incidentDecider.evolve, before);
    expect(incidentView(merged)!.status).toBe('closed');
    expect(incidentCoordination(merged)!.mergedInto).toBe(OTHER_INCIDENT_ID);
    const split = incidentDecider.decide({ type: 'RestoreFromMerge', data: { primaryId: OTHER_INCIDENT_ID } }, merged).reduce(incidentDecider.evolve, merged);
    expect(incidentView(split)).toEqual(incidentView(before));
    expect(incidentCoordination(split)).toEqual(incidentCoordination(before));
  });

  it('refuses to merge into the wrong incident or split from one it is not merged into', () => {
    incident.given([reported]).when({ type: 'MergeIntoPrimary', data: { primaryId: reported.type === 'IncidentReported' ? reported.data.incidentId : '' } }).thenThrows('invalid_payload', /cannot be merged into itself/);
    incident
      .given([reported, { type: 'IncidentMergedInto', data: { primaryId: OTHER_INCIDENT_ID } }])
      .when({ type: 'RestoreFromMerge', data: { primaryId: 'someone-else' } })
      .thenThrows('invalid_state', /is not merged into/);
  });
});

describe('overdue alerts', () => {
  const flag = {
    type: 'FlagOverdue' as const,
    data: { ruleId: 'p1-not-dispatched', subject: 'incident' as const, status: 'triaged', since: '2026-03-02T09:00:00.000Z', dueAt: '2026-03-02T09:01:00.000Z', limitSeconds: 60, clearsOn: 'dispatch' as const },
  };
  it('records one alert per overdue status and clears it on dispatch', () => {
    const [event] = incident.given([reported, triaged]).when(flag).then([{ type: 'IncidentStatusOverdue', data: flag.data }]);
    incident.given([reported, triaged, event!]).when(flag).thenThrows('conflict', /already flagged overdue/);
    expect(incidentCoordination(fold(incidentDecider, [reported, triaged, event!]))!.overdue).toHaveLength(1);
    expect(incidentCoordination(fold(incidentDecider, [reported, triaged, event!, assignedE1]))!.overdue).toEqual([]);
  });
});

describe('enforcement', () => {
  it('counts the rectification deadline in days from the time of the order', () => {
    const ws: IncidentEvent = {
      type: 'IncidentReported',
      data: { incidentId: 'ws-1', type: 'illegal_construction', priority: 4, location: { lat: 27.1, lng: 114.9 }, source: 'patrol', agencies: ['urban'] },
    };
    incident
      .given([ws, { type: 'IncidentTriaged', data: { priority: 4, type: 'illegal_construction', agencies: ['urban'] } }, { type: 'InspectionRecorded', data: { findings: 'Extra floor', violationFound: true } }])
      .when({ type: 'OrderRectification', data: { requirements: 'Remove the extra floor', deadlineDays: 30, orderedAt: '2026-02-14T15:30:00.000Z' } })
      .then([{ type: 'RectificationOrdered', data: { requirements: 'Remove the extra floor', deadlineDays: 30, orderedAt: '2026-02-14T15:30:00.000Z', dueAt: '2026-03-16T15:30:00.000Z' } }]);
  });
});

describe('new event types', () => {
  it('carry a schema version', () => {
    for (const type of ['IncidentLegClaimed', 'IncidentLeadHandedOver', 'MutualAidRequested', 'MutualAidAccepted', 'MutualAidDeclined', 'IncidentLegCompleted', 'IncidentStatusOverdue', 'IncidentMergedInto', 'DuplicateIncidentMerged', 'MergedIncidentSplitOff', 'IncidentSplitFromPrimary', 'InspectionRecorded', 'RectificationOrdered', 'ReinspectionRecorded', 'EnforcementCaseClosed', 'EnforcementCaseEscalated']) {
      expect(currentSchemaVersion(type)).toBe(1);
    }
  });
  it('isoFromEpochMs writes what Date would, without reading a clock', () => {
    for (const ms of [0, 951_782_400_000, 1_772_440_200_123, 4_102_444_800_000, -86_400_000]) expect(isoFromEpochMs(ms)).toBe(new Date(ms).toISOString());
  });
});
