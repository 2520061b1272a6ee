// A realistic mixed workload written through the real command handlers, with business times the
// tests know, so read-model rows can be checked against what a dispatcher actually did.
import { assignUnit, changeUnitStatus } from '../../api/commands/assignUnit.ts';
import { incidents, units } from '../../api/commands/aggregates.ts';
import { handleCommand } from '../../api/commands/commandHandler.ts';
import type { Agency, IncidentType, Role, UnitType } from '../../domain/catalog.ts';
import type { CommandMeta } from '../../domain/metadata.ts';
import { newId } from '../../eventstore/eventIds.ts';
import type { EventStore } from '../../eventstore/port.ts';

/** Business time that only moves forward: one minute per command from a fixed morning. */
export class Clock {
  private t: number;
  constructor(start = '2026-03-02T08:00:00.000Z') {
    this.t = Date.parse(start);
  }
  next(): string {
    this.t += 60_000;
    return new Date(this.t).toISOString();
  }
}

export interface Actor {
  actor: string;
  role: Role;
  agency: Agency;
}

export const DISPATCHER: Actor = { actor: 'u-dispatch-1', role: 'dispatcher', agency: 'police' };
export const SUPERVISOR: Actor = { actor: 'u-super-7', role: 'supervisor', agency: 'fire' };
export const ADMIN: Actor = { actor: 'u-admin', role: 'admin', agency: 'urban' };

export class Workload {
  readonly clock = new Clock();
  /** occurredAt of every command, by a name the test chose. */
  readonly times = new Map<string, string>();
  readonly unitIds = new Map<string, string>();
  readonly incidentIds = new Map<string, string>();
  /** Metadata of the labelled commands, for checking event_log's audit columns. */
  readonly metas = new Map<string, CommandMeta>();

  constructor(readonly store: EventStore) {}

  meta(who: Actor = DISPATCHER, label?: string): CommandMeta {
    const occurredAt = this.clock.next();
    const meta: CommandMeta = { commandId: newId(), ...who, occurredAt, requestId: `req-${newId()}` };
    if (label) {
      this.times.set(label, occurredAt);
      this.metas.set(label, meta);
    }
    return meta;
  }

  /** occurredAt of a labelled command. */
  at(label: string): string {
    const time = this.times.get(label);
    if (!time) throw new Error(`no command labelled ${label}`);
    return time;
  }

  unit(callSign: string): string {
    const id = this.unitIds.get(callSign);
    if (!id) throw new Error(`no unit ${callSign}`);
    return id;
  }

  incident(name: string): string {
    const id = this.incidentIds.get(name);
    if (!id) throw new Error(`no incident ${name}`);
    return id;
  }

  async registerUnit(callSign: string, agency: Agency, unitType: UnitType, lat: number, lng: number) {
    const unitId = newId();
    this.unitIds.set(callSign, unitId);
    await handleCommand(
      this.store,
      units,
      unitId,
      { type: 'RegisterUnit', data: { unitId, agency, callSign, unitType, homeStation: `${agency} station`, position: { lat, lng } } },
      this.meta(ADMIN, `register ${callSign}`),
    );
    return unitId;
  }

  async report(name: string, type: IncidentType, priority: 1 | 2 | 3 | 4 | 5, extra: { agencies?: Agency[]; address?: string } = {}) {
    const incidentId = newId();
    this.incidentIds.set(name, incidentId);
    await handleCommand(
      this.store,
      incidents,
      incidentId,
      {
        type: 'ReportIncident',
        data: {
          incidentId,
          type,
          priority,
          location: { lat: 27.1 + this.incidentIds.size / 1000, lng: 114.97 + this.incidentIds.size / 1000 },
          description: `${name}: ${type}`,
          source: 'hotline_12345',
          ...extra,
        },
      },
      this.meta(DISPATCHER, `report ${name}`),
    );
    return incidentId;
  }

  async incidentCommand(name: string, command: { type: string; data: unknown }, label?: string, who: Actor = DISPATCHER) {
    await handleCommand(this.store, incidents, this.incident(name), command as never, this.meta(who, label ?? `${command.type} ${name}`));
  }

  async unitCommand(callSign: string, command: { type: string; data: unknown }, label?: string, who: Actor = SUPERVISOR) {
    await handleCommand(this.store, units, this.unit(callSign), command as never, this.meta(who, label ?? `${command.type} ${callSign}`));
  }

  async assign(name: string, callSign: string, label?: string) {
    await assignUnit(this.store, { incidentId: this.incident(name), unitId: this.unit(callSign) }, this.meta(DISPATCHER, label ?? `assign ${callSign} ${name}`));
  }

  async status(name: string, callSign: string, status: 'en_route' | 'on_scene' | 'transporting' | 'at_hospital' | 'cleared', label?: string) {
    await changeUnitStatus(
      this.store,
      { incidentId: this.incident(name), unitId: this.unit(callSign), status, ...(status === 'transporting' && { destination: 'Ji\'an Central Hospital' }) },
      this.meta(SUPERVISOR, label ?? `${status} ${callSign} ${name}`),
    );
  }
}

const FLEET: Array<[string, Agency, UnitType]> = [
  ['F1', 'fire', 'engine'],
  ['F2', 'fire', 'ladder'],
  ['F3', 'fire', 'rescue'],
  ['A1', 'ems', 'ambulance'],
  ['A2', 'ems', 'ambulance'],
  ['P1', 'police', 'patrol_car'],
  ['P2', 'police', 'patrol_car'],
  ['T1', 'traffic', 'traffic_patrol'],
  ['S1', 'safety', 'inspection_team'],
  ['U1', 'urban', 'enforcement_team'],
];

const ROUTINE: Array<[IncidentType, Agency, 1 | 2 | 3 | 4 | 5]> = [
  ['public_order', 'police', 3],
  ['traffic_accident', 'traffic', 3],
  ['medical', 'ems', 2],
  ['illegal_construction', 'urban', 4],
  ['work_safety_violation', 'safety', 4],
  ['fire', 'fire', 1],
];

/** Which unit of each agency routine incidents use (each finishes before the next starts). */
const ROUTINE_UNIT: Record<Agency, string> = { police: 'P2', traffic: 'T1', ems: 'A2', urban: 'U1', safety: 'S1', fire: 'F3' };

/**
 * ~10 units, ~30 incidents and several hundred events. The named incidents are the hand-checked ones:
 *  - blaze:   full life cycle with two units, transport to hospital, resolved then closed.
 *  - brawl:   resolved, reopened (back to triaged), a unit assigned again and still working it.
 *  - hoax:    reported then cancelled.
 *  - leak:    escalated (priority and agencies), two notes, never triaged.
 *  - crash:   a unit on scene, not cleared.
 * plus a released reservation (compensation), out-of-service and location reports.
 */
export async function runMixedWorkload(store: EventStore, options: { routine?: number } = {}): Promise<Workload> {
  const w = new Workload(store);
  let n = 0;
  for (const [callSign, agency, type] of FLEET) await w.registerUnit(callSign, agency, type, 27.11 + n / 100, 114.98 + n++ / 100);

  // blaze
  await w.report('blaze', 'fire', 2);
  await w.incidentCommand('blaze', { type: 'TriageIncident', data: { priority: 1 } }, 'triage blaze');
  await w.assign('blaze', 'F1', 'assign F1 blaze');
  await w.assign('blaze', 'A1', 'assign A1 blaze');
  await w.status('blaze', 'F1', 'en_route', 'en_route F1 blaze');
  await w.unitCommand('F1', { type: 'ReportLocation', data: { position: { lat: 27.2, lng: 115.01 }, heading: 90, speedKmh: 42 } });
  await w.status('blaze', 'A1', 'en_route');
  await w.status('blaze', 'F1', 'on_scene', 'on_scene F1 blaze');
  await w.status('blaze', 'A1', 'on_scene');
  await w.incidentCommand('blaze', { type: 'AddNote', data: { text: 'Second floor, two occupants evacuated.' } });
  await w.status('blaze', 'A1', 'transporting');
  await w.status('blaze', 'A1', 'at_hospital');
  await w.status('blaze', 'A1', 'cleared');
  await w.status('blaze', 'F1', 'cleared', 'cleared F1 blaze');
  await w.incidentCommand('blaze', { type: 'ResolveIncident', data: { summary: 'Fire out.' } }, 'resolve blaze');
  await w.incidentCommand('blaze', { type: 'CloseIncident', data: {} }, 'close blaze');

  // brawl
  await w.report('brawl', 'public_order', 3);
  await w.incidentCommand('brawl', { type: 'TriageIncident', data: {} }, 'triage brawl');
  await w.assign('brawl', 'P1', 'assign P1 brawl');
  await w.status('brawl', 'P1', 'en_route', 'en_route P1 brawl');
  await w.status('brawl', 'P1', 'cleared');
  await w.incidentCommand('brawl', { type: 'ResolveIncident', data: {} }, 'resolve brawl');
  await w.incidentCommand('brawl', { type: 'ReopenIncident', data: { reason: 'Fight resumed outside the bar.' } }, 'reopen brawl');
  await w.assign('brawl', 'P1', 'reassign P1 brawl');
  await w.status('brawl', 'P1', 'on_scene', 'on_scene P1 brawl');

  // hoax
  await w.report('hoax', 'crime_in_progress', 1);
  await w.incidentCommand('hoax', { type: 'CancelIncident', data: { reason: 'Prank call.' } }, 'cancel hoax');

  // leak
  await w.report('leak', 'gas_leak', 3, { address: '12 Yangming Road' });
  await w.incidentCommand('leak', { type: 'EscalateIncident', data: { priority: 2, agencies: ['police'] } }, 'escalate leak');
  await w.incidentCommand('leak', { type: 'AddNote', data: { text: 'Smell reported by neighbours.' } });
  await w.incidentCommand('leak', { type: 'AddNote', data: { text: 'Gas company informed.' } });

  // crash
  await w.report('crash', 'traffic_accident_injuries', 2);
  await w.incidentCommand('crash', { type: 'TriageIncident', data: {} }, 'triage crash');
  await w.assign('crash', 'F2', 'assign F2 crash');
  await w.status('crash', 'F2', 'on_scene', 'on_scene F2 crash');

  // A reservation the incident then refused: the compensating release puts the unit back to idle.
  await w.unitCommand('A2', { type: 'DispatchUnit', data: { incidentId: w.incident('hoax') } }, 'reserve A2', DISPATCHER);
  await w.unitCommand('A2', { type: 'ReleaseAssignment', data: { incidentId: w.incident('hoax'), reason: 'Incident was cancelled.' } }, 'release A2', DISPATCHER);

  await w.unitCommand('S1', { type: 'MarkOutOfService', data: { reason: 'Vehicle inspection.' } }, 'oos S1');
  await w.unitCommand('S1', { type: 'ReturnToService', data: {} }, 'back S1');
  await w.unitCommand('U1', { type: 'MarkOutOfService', data: { reason: 'Flat tyre.' } }, 'oos U1');
  await w.unitCommand('U1', { type: 'ReturnToService', data: {} }, 'back U1');

  // Routine traffic around them: each incident runs to an end chosen by its index.
  const routine = options.routine ?? 25;
  for (let i = 0; i < routine; i++) {
    const [type, agency, priority] = ROUTINE[i % ROUTINE.length]!;
    const name = `routine-${i}`;
    const unit = ROUTINE_UNIT[agency];
    await w.report(name, type, priority);
    if (i % 7 === 6) {
      await w.incidentCommand(name, { type: 'CancelIncident', data: { reason: 'Duplicate report.' } });
      continue;
    }
    await w.incidentCommand(name, { type: 'TriageIncident', data: {} });
    if (i % 5 === 4) await w.incidentCommand(name, { type: 'AddNote', data: { text: `Caller ${i} called back.` } });
    await w.assign(name, unit);
    await w.unitCommand(unit, { type: 'ReportLocation', data: { position: { lat: 27.1 + i / 200, lng: 115 - i / 200 } } });
    await w.status(name, unit, 'en_route');
    if (i % 3 !== 2) await w.status(name, unit, 'on_scene');
    await w.status(name, unit, 'cleared');
    await w.incidentCommand(name, { type: 'ResolveIncident', data: {} });
    if (i % 2 === 0) await w.incidentCommand(name, { type: 'CloseIncident', data: {} });
    if (i % 8 === 3) await w.incidentCommand(name, { type: 'ReopenIncident', data: { reason: 'Not finished.' } });
  }
  return w;
}
