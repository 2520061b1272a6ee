import { describe, expect, it } from 'vitest';
import { fold } from '../../domain/decider.ts';
import { DomainError } from '../../domain/errors.ts';
import { unitAssignment, unitReadiness } from '../../domain/unit/unit.allowed.ts';
import type { UnitCommand } from '../../domain/unit/unit.commands.ts';
import { unitDecider } from '../../domain/unit/unit.decider.ts';
import type { UnitEvent } from '../../domain/unit/unit.events.ts';
import {
  INCIDENT_ID,
  OTHER_INCIDENT_ID,
  registerCommand,
  unitAtHospital,
  unitBackInService,
  unitCleared,
  unitDispatched,
  unitEnRoute,
  unitOnScene,
  unitOutOfService,
  unitRegistered,
  unitReleased,
  unitTransporting,
} from './fixtures.ts';

const reg = [unitRegistered];
const toDispatched = [...reg, unitDispatched];
const toEnRoute = [...toDispatched, unitEnRoute];
const toOnScene = [...toEnRoute, unitOnScene];
const toTransporting = [...toOnScene, unitTransporting];
const toAtHospital = [...toTransporting, unitAtHospital];

const HISTORIES: Record<string, UnitEvent[]> = {
  unregistered: [],
  idle: reg,
  idle_after_return: [...reg, unitOutOfService, unitBackInService],
  idle_after_clear: [...toOnScene, unitCleared],
  idle_after_release: [...toDispatched, unitReleased],
  dispatched: toDispatched,
  dispatched_direct_on_scene: [...toDispatched, unitOnScene],
  en_route: toEnRoute,
  on_scene: toOnScene,
  transporting: toTransporting,
  at_hospital: toAtHospital,
  oos_idle: [...reg, unitOutOfService],
  oos_dispatched: [...toDispatched, unitOutOfService],
  oos_en_route: [...toEnRoute, unitOutOfService],
  oos_on_scene: [...toOnScene, unitOutOfService],
  oos_transporting: [...toTransporting, unitOutOfService],
  oos_at_hospital: [...toAtHospital, unitOutOfService],
};

// Field reports name the incident the unit serves (INCIDENT_ID); dispatch names a new one.
const status = (s: 'en_route' | 'on_scene' | 'transporting' | 'at_hospital' | 'cleared'): UnitCommand => ({
  type: 'ChangeUnitStatus',
  data: { incidentId: INCIDENT_ID, status: s },
});

const COMMANDS: Record<string, UnitCommand> = {
  Register: registerCommand,
  OutOfService: { type: 'MarkOutOfService', data: { reason: 'Pump failure' } },
  BackInService: { type: 'ReturnToService', data: {} },
  Dispatch: { type: 'DispatchUnit', data: { incidentId: OTHER_INCIDENT_ID } },
  EnRoute: status('en_route'),
  OnScene: status('on_scene'),
  Transport: status('transporting'),
  AtHospital: status('at_hospital'),
  Clear: status('cleared'),
  Release: { type: 'ReleaseAssignment', data: { incidentId: INCIDENT_ID, reason: 'Incident refused the assignment' } },
  Location: { type: 'ReportLocation', data: { position: { lat: 27.1, lng: 114.9 }, heading: 90, speedKmh: 40 } },
};

// Written by hand from the specification, never derived from the machine: A = accept, R = reject.
// readiness/assignment: "-" while unregistered.
const TABLE = `
row                         readiness       assignment    Register OutOfService BackInService Dispatch EnRoute OnScene Transport AtHospital Clear Release Location
unregistered                -               -             A        R            R             R        R       R       R         R          R     R       R
idle                        available       idle          R        A            R             A        R       R       R         R          R     R       A
idle_after_return           available       idle          R        A            R             A        R       R       R         R          R     R       A
idle_after_clear            available       idle          R        A            R             A        R       R       R         R          R     R       A
idle_after_release          available       idle          R        A            R             A        R       R       R         R          R     R       A
dispatched                  available       dispatched    R        A            R             R        A       A       R         R          A     A       A
dispatched_direct_on_scene  available       on_scene      R        A            R             R        R       R       A         R          A     R       A
en_route                    available       en_route      R        A            R             R        R       A       R         R          A     R       A
on_scene                    available       on_scene      R        A            R             R        R       R       A         R          A     R       A
transporting                available       transporting  R        A            R             R        R       R       R         A          A     R       A
at_hospital                 available       at_hospital   R        A            R             R        R       R       R         R          A     R       A
oos_idle                    out_of_service  idle          R        R            A             R        R       R       R         R          R     R       A
oos_dispatched              out_of_service  dispatched    R        R            A             R        A       A       R         R          A     A       A
oos_en_route                out_of_service  en_route      R        R            A             R        R       A       R         R          A     R       A
oos_on_scene                out_of_service  on_scene      R        R            A             R        R       R       A         R          A     R       A
oos_transporting            out_of_service  transporting  R        R            A             R        R       R       R         A          A     R       A
oos_at_hospital             out_of_service  at_hospital   R        R            A             R        R       R       R         R          A     R       A
`;

function parseTable(text: string) {
  const [header, ...lines] = text.trim().split('\n').map((l) => l.trim().split(/\s+/));
  const columns = header!.slice(3);
  return lines.map(([row, readiness, assignment, ...cells]) => ({
    row: row!,
    readiness: readiness === '-' ? null : readiness!,
    assignment: assignment === '-' ? null : assignment!,
    cells: Object.fromEntries(columns.map((c, i) => [c, cells[i] === 'A' ? ('accept' as const) : ('reject' as const)])),
  }));
}

const table = parseTable(TABLE);

describe('unit: every situation × every command', () => {
  it('covers every history and every command', () => {
    expect(table.map((r) => r.row).sort()).toEqual(Object.keys(HISTORIES).sort());
    for (const r of table) expect(Object.keys(r.cells).sort()).toEqual(Object.keys(COMMANDS).sort());
  });

  for (const { row, readiness, assignment, cells } of table) {
    describe(row, () => {
      const state = fold(unitDecider, HISTORIES[row]!);

      it(`is ${readiness ?? 'unregistered'} / ${assignment ?? 'unregistered'}`, () => {
        expect(unitReadiness(state)).toBe(readiness);
        expect(unitAssignment(state)).toBe(assignment);
      });

      for (const [column, expected] of Object.entries(cells)) {
        it(`${column} → ${expected}`, () => {
          const command = COMMANDS[column]!;
          if (expected === 'accept') {
            const events = unitDecider.decide(command, state);
            expect(events.length).toBeGreaterThan(0);
            const next = events.reduce(unitDecider.evolve, state);
            expect(next).not.toBe(state);
          } else {
            expect(() => unitDecider.decide(command, state)).toThrow(DomainError);
          }
        });
      }
    });
  }
});
