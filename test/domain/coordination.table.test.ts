// Every situation × every coordination command (legs, mutual aid, overdue alerts, merge/split, enforcement),
// written by hand from the issue, never derived from the machine: A = accept, R = reject.
import { describe, expect, it } from 'vitest';
import { fold } from '../../domain/decider.ts';
import { DomainError } from '../../domain/errors.ts';
import { incidentStateName } from '../../domain/incident/incident.allowed.ts';
import type { IncidentCommand } from '../../domain/incident/incident.commands.ts';
import { incidentDecider } from '../../domain/incident/incident.decider.ts';
import type { IncidentEvent } from '../../domain/incident/incident.events.ts';
import { E1, INCIDENT_ID, OTHER_INCIDENT_ID, assignedE1, cancelled, closed, reported, resolved, triaged, unitStatus } from './fixtures.ts';

const THIRD_ID = '01900000-0000-7000-8000-0000000c0ffe';
const aidPolice: IncidentEvent = { type: 'MutualAidRequested', data: { agency: 'police', requestedBy: 'traffic' } };
const absorbedOther: IncidentEvent = { type: 'DuplicateIncidentMerged', data: { duplicateId: OTHER_INCIDENT_ID, reports: [], notes: ['from the other call'] } };
const mergedIntoOther: IncidentEvent = { type: 'IncidentMergedInto', data: { primaryId: OTHER_INCIDENT_ID } };

const HISTORIES: Record<string, IncidentEvent[]> = {
  new: [],
  reported: [reported],
  triaged: [reported, triaged],
  dispatched: [reported, triaged, assignedE1],
  dispatched_cleared: [reported, triaged, assignedE1, unitStatus(E1, 'cleared')],
  on_scene: [reported, triaged, assignedE1, unitStatus(E1, 'on_scene')],
  aid_requested: [reported, triaged, aidPolice],
  absorbed: [reported, triaged, absorbedOther],
  resolved: [reported, triaged, resolved],
  resolved_absorbed: [reported, triaged, absorbedOther, resolved],
  closed: [reported, triaged, resolved, closed],
  cancelled: [reported, cancelled],
  merged: [reported, triaged, mergedIntoOther],
};

const COMMANDS: Record<string, IncidentCommand> = {
  Claim: { type: 'ClaimLeg', data: { agency: 'ems', owner: 'user-ems' } },
  Lead: { type: 'HandOverLead', data: { to: 'fire' } },
  Aid: { type: 'RequestMutualAid', data: { agency: 'police', requestedBy: 'traffic' } },
  Accept: { type: 'AcceptMutualAid', data: { agency: 'police', owner: 'user-police' } },
  Decline: { type: 'DeclineMutualAid', data: { agency: 'police', reason: 'No patrol free' } },
  CompleteEms: { type: 'CompleteLeg', data: { agency: 'ems' } },
  Overdue: {
    type: 'FlagOverdue',
    data: { ruleId: 'p2-not-dispatched', subject: 'incident', status: 'triaged', since: '2026-03-02T09:00:00.000Z', dueAt: '2026-03-02T09:03:00.000Z', limitSeconds: 180, clearsOn: 'dispatch' },
  },
  Merge: { type: 'MergeIntoPrimary', data: { primaryId: OTHER_INCIDENT_ID } },
  Absorb: { type: 'AbsorbDuplicate', data: { duplicateId: THIRD_ID, reports: [], notes: [] } },
  SplitOff: { type: 'SplitOffDuplicate', data: { duplicateId: OTHER_INCIDENT_ID } },
  Restore: { type: 'RestoreFromMerge', data: { primaryId: OTHER_INCIDENT_ID } },
  Inspect: { type: 'RecordInspection', data: { findings: 'Blocked exits', violationFound: true } },
};

const TABLE = `
row                 state       Claim Lead Aid Accept Decline CompleteEms Overdue Merge Absorb SplitOff Restore Inspect
new                 new         R     R    R   R      R       R           R       R     R      R        R       R
reported            reported    R     R    R   R      R       R           A       A     A      R        R       R
triaged             triaged     A     A    A   R      R       A           A       A     A      R        R       R
dispatched          dispatched  A     A    A   R      R       A           A       R     A      R        R       R
dispatched_cleared  dispatched  A     A    A   R      R       A           A       A     A      R        R       R
on_scene            on_scene    A     A    A   R      R       A           A       R     A      R        R       R
aid_requested       triaged     A     A    R   A      A       A           A       A     A      R        R       R
absorbed            triaged     A     A    A   R      R       A           A       A     A      A        R       R
resolved            resolved    R     R    R   R      R       R           R       R     R      R        R       R
resolved_absorbed   resolved    R     R    R   R      R       R           R       R     R      A        R       R
closed              closed      R     R    R   R      R       R           R       R     R      R        R       R
cancelled           cancelled   R     R    R   R      R       R           R       R     R      R        R       R
merged              merged      R     R    R   R      R       R           R       R     R      R        A       R
`;

// Enforcement cases: a work-safety violation, from report to resolution.
const ws: IncidentEvent = {
  type: 'IncidentReported',
  data: { incidentId: INCIDENT_ID, type: 'work_safety_violation', priority: 4, location: { lat: 27.1, lng: 114.9 }, source: 'hotline_12345', agencies: ['safety'] },
};
const wsTriaged: IncidentEvent = { type: 'IncidentTriaged', data: { priority: 4, type: 'work_safety_violation', agencies: ['safety'] } };
const inspected: IncidentEvent = { type: 'InspectionRecorded', data: { findings: 'Exits blocked', violationFound: true } };
const ordered: IncidentEvent = {
  type: 'RectificationOrdered',
  data: { requirements: 'Clear the exits', deadlineDays: 3, orderedAt: '2026-03-02T09:00:00.000Z', dueAt: '2026-03-05T09:00:00.000Z' },
};
const failed: IncidentEvent[] = [
  { type: 'ReinspectionRecorded', data: { compliant: false, findings: 'Still blocked' } },
  { type: 'EnforcementCaseEscalated', data: { reason: 'Not rectified' } },
];
const noViolation: IncidentEvent[] = [
  { type: 'InspectionRecorded', data: { findings: 'All in order', violationFound: false } },
  { type: 'EnforcementCaseClosed', data: { outcome: 'no_violation' } },
];

const CASE_HISTORIES: Record<string, IncidentEvent[]> = {
  ws_reported: [ws],
  ws_triaged: [ws, wsTriaged],
  ws_inspected: [ws, wsTriaged, inspected],
  ws_ordered: [ws, wsTriaged, inspected, ordered],
  ws_escalated: [ws, wsTriaged, inspected, ordered, ...failed],
  ws_no_violation: [ws, wsTriaged, ...noViolation],
  ws_resolved: [ws, wsTriaged, ...noViolation, resolved],
};

const CASE_COMMANDS: Record<string, IncidentCommand> = {
  Inspect: { type: 'RecordInspection', data: { findings: 'Exits blocked', violationFound: true } },
  Order: { type: 'OrderRectification', data: { requirements: 'Clear the exits', deadlineDays: 3, orderedAt: '2026-03-02T09:00:00.000Z' } },
  Reinspect: { type: 'RecordReinspection', data: { compliant: true, findings: 'Exits clear' } },
  Resolve: { type: 'ResolveIncident', data: {} },
};

const CASE_TABLE = `
row              state     Inspect Order Reinspect Resolve
ws_reported      reported  R       R     R         R
ws_triaged       triaged   A       R     R         A
ws_inspected     triaged   R       A     R         R
ws_ordered       triaged   R       R     A         R
ws_escalated     triaged   R       A     R         A
ws_no_violation  triaged   R       R     R         A
ws_resolved      resolved  R       R     R         R
`;

function parseTable(text: string) {
  const [header, ...lines] = text.trim().split('\n').map((l) => l.trim().split(/\s+/));
  const columns = header!.slice(2);
  return lines.map(([row, state, ...cells]) => ({
    row: row!,
    state: state!,
    cells: Object.fromEntries(columns.map((c, i) => [c, cells[i] === 'A' ? ('accept' as const) : ('reject' as const)])),
  }));
}

function runTable(title: string, text: string, histories: Record<string, IncidentEvent[]>, commands: Record<string, IncidentCommand>) {
  const table = parseTable(text);
  describe(title, () => {
    it('covers every history and every command', () => {
      expect(table.map((r) => r.row).sort()).toEqual(Object.keys(histories).sort());
      for (const r of table) expect(Object.keys(r.cells).sort()).toEqual(Object.keys(commands).sort());
    });
    for (const { row, state: stateName, cells } of table) {
      describe(row, () => {
        const state = fold(incidentDecider, histories[row]!);
        it(`is in state ${stateName}`, () => {
          expect(incidentStateName(state)).toBe(stateName);
        });
        for (const [column, expected] of Object.entries(cells)) {
          it(`${column} → ${expected}`, () => {
            const command = commands[column]!;
            if (expected === 'accept') {
              const events = incidentDecider.decide(command, state);
              expect(events.length).toBeGreaterThan(0);
              expect(events.reduce(incidentDecider.evolve, state)).not.toBe(state);
            } else {
              let error: unknown;
              try {
                incidentDecider.decide(command, state);
              } catch (e) {
                error = e;
              }
              expect(error).toBeInstanceOf(DomainError);
              // A refusal is a sentence a dispatcher can read, not a code.
              expect((error as DomainError).message).toMatch(/^\S.{20,}[.]$/);
            }
          });
        }
      });
    }
  });
}

runTable('incident coordination: every situation × every coordination command', TABLE, HISTORIES, COMMANDS);
runTable('enforcement cases: every stage × every enforcement command', CASE_TABLE, CASE_HISTORIES, CASE_COMMANDS);
