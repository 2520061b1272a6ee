import { v5 as uuidv5 } from 'uuid';
import { DomainError, incidentLabel, incidentView, unitView, type IncidentState, type UnitState } from '../../domain/index.ts';
import type { CommandMeta } from '../../domain/metadata.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { handleCommand, load, loadCached, withFreshOnRefusal, type Loaded } from './commandHandler.ts';
import { incidents, units } from './aggregates.ts';
import { refusedForSure, StaleRevisionError } from './errors.ts';

const COMPENSATION_NAMESPACE = '5b1f0c52-8f0e-4c1e-9a57-3f7a4d0e2c11';

/** A follow-up command's id, derived so that a retried process repeats the same follow-up, not a new one. */
export function derivedCommandId(commandId: string, purpose: string): string {
  return uuidv5(`${commandId}:${purpose}`, COMPENSATION_NAMESPACE);
}

type IncidentAndUnit = [Loaded<IncidentState>, Loaded<UnitState>];

/** Both streams, as this process remembers them or (`fresh`) as the store has them now. */
async function incidentAndUnit(store: EventStore, incidentId: string, unitId: string, fresh: boolean): Promise<IncidentAndUnit> {
  const how = fresh ? load : loadCached;
  const [incident, unit] = await Promise.all([how(store, incidents, incidentId), how(store, units, unitId)]);
  return [incident, unit];
}

/** The caller's check that they may act on this incident and unit; throws to refuse before anything is written. */
export type Authorize = (incident: IncidentState, unit: UnitState) => void;

export interface AssignmentResult {
  incidentRevision: bigint;
  unitRevision: bigint;
  written: boolean;
}

/**
 * Assigning a unit touches two streams and no store has a transaction across them, so it is a small process:
 * 1. reserve the unit on its own stream at its expected revision — the race between dispatchers is decided here;
 * 2. record the assignment on the incident;
 * 3. if the incident refuses, release the unit with a compensating event.
 * Whatever happens, a unit never ends up serving two incidents, and each step is an event in the audit trail.
 */
export async function assignUnit(
  store: EventStore,
  input: { incidentId: string; unitId: string; ifMatch?: bigint; authorize?: Authorize },
  meta: CommandMeta,
): Promise<AssignmentResult> {
  const { incidentId, unitId } = input;
  const correlated: CommandMeta = { ...meta, correlationId: meta.correlationId ?? incidentId };

  // Refuse early (nothing written) when the incident or unit cannot take this assignment as things stand;
  // the authoritative checks still happen at each append below.
  const { incident, unit, unitNow, recording } = await withFreshOnRefusal(
    () => incidentAndUnit(store, incidentId, unitId, false),
    () => incidentAndUnit(store, incidentId, unitId, true),
    ([incident, unit]: IncidentAndUnit) => {
      input.authorize?.(incident.state, unit.state);
      if (incident.revision < 0n) throw new DomainError('not_found', `There is no incident ${incidentLabel(incidentId)}.`);
      const unitNow = unitView(unit.state)!;
      if (unit.revision < 0n || !unitNow) throw new DomainError('not_found', `There is no unit ${unitId}.`);
      const recording = {
        type: 'RecordUnitAssignment' as const,
        data: { unitId, agency: unitNow.agency, callSign: unitNow.callSign, unitType: unitNow.unitType },
      };
      if (incident.revisionOf(meta.commandId) === undefined) {
        if (input.ifMatch !== undefined && input.ifMatch !== incident.revision) {
          throw new StaleRevisionError(incidents.stream(incidentId), input.ifMatch, incident.revision);
        }
        incidents.decider.decide(recording, incident.state);
      }
      return { incident, unit, unitNow, recording };
    },
  );

  const reserved = await handleCommand(store, units, unitId, { type: 'DispatchUnit', data: { incidentId } }, correlated, { loaded: unit });
  const unitAfter = unitView(reserved.state) ?? unitNow;
  const releaseId = derivedCommandId(meta.commandId, 'release');
  // A retry (nothing newly written) asks the store whether an earlier attempt was rolled back; a fresh
  // reservation was just decided on the stream as it stands.
  const released = (await (reserved.written ? loadCached : load)(store, units, unitId)).revisionOf(releaseId) !== undefined;
  if (released || unitAfter.incidentId !== incidentId) {
    // A retry of an assignment that was already rolled back: report it rather than silently re-running it.
    throw new DomainError('conflict', `The assignment of ${unitAfter.callSign} to ${incidentLabel(incidentId)} was rolled back; assign again.`, {
      unitId,
      incidentId,
    });
  }

  try {
    const recorded = await handleCommand(store, incidents, incidentId, recording, correlated, {
      ...(input.ifMatch !== undefined && { ifMatch: input.ifMatch }),
      loaded: incident,
    });
    return { incidentRevision: recorded.revision, unitRevision: reserved.revision, written: reserved.written || recorded.written };
  } catch (error) {
    if (!refusedForSure(error)) throw error;
    const why = error instanceof Error ? error.message : String(error);
    await handleCommand(
      store,
      units,
      unitId,
      { type: 'ReleaseAssignment', data: { incidentId, reason: `Incident refused the assignment: ${why}` } },
      { ...correlated, commandId: releaseId, causationId: meta.commandId, reason: 'compensation' },
    );
    throw error;
  }
}

/**
 * A unit's status is a fact from the field, recorded first on the unit (its source of truth), then mirrored on
 * the incident so the incident's own state (e.g. first unit on scene) follows. Both steps are idempotent on
 * the command id, so a retry completes a half-done change.
 */
export async function changeUnitStatus(
  store: EventStore,
  input: {
    incidentId: string;
    unitId: string;
    status: 'en_route' | 'on_scene' | 'transporting' | 'at_hospital' | 'cleared';
    destination?: string;
    /** The incident revision the client last saw (If-Match); checked before anything is written. */
    ifMatch?: bigint;
    authorize?: Authorize;
  },
  meta: CommandMeta,
): Promise<{ incidentRevision: bigint; unitRevision: bigint; written: boolean }> {
  const { incidentId, unitId, status } = input;
  const correlated: CommandMeta = { ...meta, correlationId: meta.correlationId ?? incidentId };
  const [incident, unit] = await withFreshOnRefusal(
    () => incidentAndUnit(store, incidentId, unitId, false),
    () => incidentAndUnit(store, incidentId, unitId, true),
    (loaded: IncidentAndUnit) => {
      const [incident, unit] = loaded;
      input.authorize?.(incident.state, unit.state);
      if (incident.revision < 0n) throw new DomainError('not_found', `There is no incident ${incidentLabel(incidentId)}.`);
      if (input.ifMatch !== undefined && input.ifMatch !== incident.revision) {
        // A retry of a change already (half) made has moved the revision itself: let it finish instead of refusing it.
        const retry = incident.revisionOf(meta.commandId) !== undefined || unit.revisionOf(meta.commandId) !== undefined;
        if (!retry) throw new StaleRevisionError(incidents.stream(incidentId), input.ifMatch, incident.revision);
      }
      if (!incidentView(incident.state)?.units.some((u) => u.unitId === unitId)) {
        throw new DomainError('not_found', `Unit ${unitId} is not assigned to ${incidentLabel(incidentId)}.`);
      }
      return loaded;
    },
  );
  const unitResult = await handleCommand(
    store,
    units,
    unitId,
    { type: 'ChangeUnitStatus', data: { incidentId, status, ...(input.destination !== undefined && { destination: input.destination }) } },
    correlated,
    { loaded: unit },
  );
  const incidentResult = await handleCommand(store, incidents, incidentId, { type: 'RecordUnitStatus', data: { unitId, status } }, correlated, { loaded: incident });
  return { incidentRevision: incidentResult.revision, unitRevision: unitResult.revision, written: unitResult.written || incidentResult.written };
}
