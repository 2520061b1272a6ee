import { describe, expect, it } from 'vitest';
import { fold } from '../../domain/decider.ts';
import { DomainError } from '../../domain/errors.ts';
import { incidentStateName } from '../../domain/incident/incident.allowed.ts';
import type { IncidentCommand } from '../../domain/incident/incident.commands.ts';
import { incidentDecider } from '../../domain/incident/incident.decider.ts';
import type { IncidentEvent } from '../../domain/incident/incident.events.ts';
import {
  A3,
  E1,
  assignedE1,
  cancelled,
  closed,
  reopened,
  reportCommand,
  reported,
  resolved,
  triaged,
  unitStatus,
} from './fixtures.ts';

// Every reachable incident situation, built from history. Rows that share a state name differ in
// whether assigned units are still working, which is what the payload rules look at.
const HISTORIES: Record<string, IncidentEvent[]> = {
  new: [],
  reported: [reported],
  triaged: [reported, triaged],
  dispatched: [reported, triaged, assignedE1],
  dispatched_cleared: [reported, triaged, assignedE1, unitStatus(E1, 'cleared')],
  on_scene: [reported, triaged, assignedE1, unitStatus(E1, 'on_scene')],
  on_scene_cleared: [reported, triaged, assignedE1, unitStatus(E1, 'on_scene'), unitStatus(E1, 'cleared')],
  resolved_no_units: [reported, triaged, resolved],
  resolved: [reported, triaged, assignedE1, unitStatus(E1, 'on_scene'), unitStatus(E1, 'cleared'), resolved],
  closed: [reported, triaged, assignedE1, unitStatus(E1, 'cleared'), resolved, closed],
  reopened: [reported, triaged, assignedE1, unitStatus(E1, 'cleared'), resolved, closed, reopened],
  cancelled_reported: [reported, cancelled],
  cancelled_dispatched: [reported, triaged, assignedE1, unitStatus(E1, 'cleared'), cancelled],
  // Closed as a duplicate of another incident (issue 6): only a split brings it back (see coordination.table.test.ts).
  merged: [reported, triaged, { type: 'IncidentMergedInto', data: { primaryId: '01900000-0000-7000-8000-0000deadbeef' } }],
};

// A payload that is valid on its own; whether the situation allows it is what the table says.
const COMMANDS: Record<string, IncidentCommand> = {
  Report: reportCommand,
  Triage: { type: 'TriageIncident', data: { priority: 3 } },
  Escalate: { type: 'EscalateIncident', data: { priority: 1 } },
  AssignA3: { type: 'RecordUnitAssignment', data: { unitId: A3, agency: 'ems', callSign: 'A3' } },
  AssignE1: { type: 'RecordUnitAssignment', data: { unitId: E1, agency: 'fire', callSign: 'E1' } },
  ClearE1: { type: 'RecordUnitStatus', data: { unitId: E1, status: 'cleared' } },
  Note: { type: 'AddNote', data: { text: 'Caller says smoke from the bonnet' } },
  Resolve: { type: 'ResolveIncident', data: { summary: 'Handled' } },
  Close: { type: 'CloseIncident', data: {} },
  Cancel: { type: 'CancelIncident', data: { reason: 'Duplicate call' } },
  Reopen: { type: 'ReopenIncident', data: { reason: 'New information' } },
};

// Written by hand from the specification, never derived from the machine: A = accept, R = reject.
const TABLE = `
row                   state       Report Triage Escalate AssignA3 AssignE1 ClearE1 Note Resolve Close Cancel Reopen
new                   new         A      R      R        R        R        R       R    R       R     R      R
reported              reported    R      A      A        R        R        R       A    R       R     A      R
triaged               triaged     R      A      A        A        A        R       A    A       R     A      R
dispatched            dispatched  R      R      A        A        R        A       A    R       R     R      R
dispatched_cleared    dispatched  R      R      A        A        A        R       A    A       R     A      R
on_scene              on_scene    R      R      A        A        R        A       A    R       R     R      R
on_scene_cleared      on_scene    R      R      A        A        A        R       A    A       R     A      R
resolved_no_units     resolved    R      R      R        R        R        R       A    R       A     R      A
resolved              resolved    R      R      R        R        R        R       A    R       A     R      A
closed                closed      R      R      R        R        R        R       R    R       R     R      A
reopened              triaged     R      A      A        A        A        R       A    A       R     A      R
cancelled_reported    cancelled   R      R      R        R        R        R       R    R       R     R      R
cancelled_dispatched  cancelled   R      R      R        R        R        R       R    R       R     R      R
merged                merged      R      R      R        R        R        R       R    R       R     R      R
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

const table = parseTable(TABLE);

describe('incident: every situation × every command', () => {
  it('covers every history and every command', () => {
    expect(table.map((r) => r.row).sort()).toEqual(Object.keys(HISTORIES).sort());
    for (const r of table) expect(Object.keys(r.cells).sort()).toEqual(Object.keys(COMMANDS).sort());
  });

  for (const { row, state: stateName, cells } of table) {
    describe(row, () => {
      const state = fold(incidentDecider, HISTORIES[row]!);

      it(`is in state ${stateName}`, () => {
        expect(incidentStateName(state)).toBe(stateName);
      });

      for (const [column, expected] of Object.entries(cells)) {
        it(`${column} → ${expected}`, () => {
          const command = COMMANDS[column]!;
          if (expected === 'accept') {
            const events = incidentDecider.decide(command, state);
            expect(events.length).toBeGreaterThan(0);
            const next = events.reduce(incidentDecider.evolve, state);
            expect(next).not.toBe(state);
          } else {
            expect(() => incidentDecider.decide(command, state)).toThrow(DomainError);
          }
        });
      }
    });
  }
});
