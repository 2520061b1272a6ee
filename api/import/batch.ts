// POST /api/import/batch: many imported facts in one request, each with its own key and business time.
// Replaying two weeks of a city's dispatch records one HTTP round trip per fact would take hours; a batch runs
// its items in order, one command each, exactly as the single import routes would.
import { Type, type Static } from 'typebox';
import { ASSIGNED_UNIT_STATUSES, INCIDENT_LIMITS, UNIT_LIMITS, type Agency, type CommandMeta, type IncidentCommand, type Priority as PriorityLevel } from '../../domain/index.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { incidents, units } from '../commands/aggregates.ts';
import { assignUnit, changeUnitStatus } from '../commands/assignUnit.ts';
import { handleCommand } from '../commands/commandHandler.ts';
import { existingIncident } from '../http/found.ts';
import { Agencies, AgencyId, Closed, IncidentTypeId, Location, Priority, Text, UnitTypeId } from '../http/schemas.ts';

export const MAX_BATCH = 1000;

const Key = Type.String({ minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$', description: 'Unique per fact; sending the same key again writes nothing new' });
const OccurredAt = Type.String({ format: 'date-time', description: 'Business time of the fact in the source' });
const Uuid = Type.String({ format: 'uuid', description: "Chosen by the importer, so a re-run lands on the same records" });
const common = { key: Key, occurredAt: OccurredAt };

export const BatchItem = Type.Union([
  Closed({ kind: Type.Literal('register_unit'), ...common, unitId: Uuid, callSign: Text(UNIT_LIMITS.callSign, { minLength: 1 }), agency: AgencyId, type: UnitTypeId, homeStation: Text(UNIT_LIMITS.homeStation, { minLength: 1 }), position: Type.Optional(Location) }),
  Closed({ kind: Type.Literal('report'), ...common, incidentId: Uuid, type: IncidentTypeId, priority: Priority, location: Location, address: Type.Optional(Text(INCIDENT_LIMITS.address)), description: Type.Optional(Text(INCIDENT_LIMITS.description)), agencies: Type.Optional(Agencies) }),
  Closed({ kind: Type.Literal('triage'), ...common, incidentId: Uuid, priority: Type.Optional(Priority), type: Type.Optional(IncidentTypeId), agencies: Type.Optional(Agencies) }),
  Closed({ kind: Type.Literal('assign'), ...common, incidentId: Uuid, unitId: Uuid }),
  Closed({ kind: Type.Literal('unit_status'), ...common, incidentId: Uuid, unitId: Uuid, status: Type.Enum([...ASSIGNED_UNIT_STATUSES]), destination: Type.Optional(Text(UNIT_LIMITS.destination)) }),
  Closed({ kind: Type.Literal('resolve'), ...common, incidentId: Uuid, summary: Type.Optional(Text(INCIDENT_LIMITS.summary)) }),
  Closed({ kind: Type.Literal('close'), ...common, incidentId: Uuid }),
  Closed({ kind: Type.Literal('cancel'), ...common, incidentId: Uuid, reason: Text(INCIDENT_LIMITS.reason, { minLength: 1 }) }),
]);
export type BatchItem = Static<typeof BatchItem>;

export const BatchBody = Closed({ items: Type.Array(BatchItem, { minItems: 1, maxItems: MAX_BATCH }) });

export const BatchResult = Closed({
  results: Type.Array(
    Closed({
      key: Type.String(),
      status: Type.Integer({ description: 'The HTTP status this fact alone would have had' }),
      id: Type.Optional(Type.String()),
      revision: Type.Optional(Type.Integer()),
      problem: Type.Optional(Type.Object({}, { additionalProperties: true })),
    }),
  ),
  ok: Type.Integer(),
  failed: Type.Integer(),
});

/** Runs one imported fact; its meta already carries the fact's business time and a command id derived from its key. */
export async function runImportItem(store: EventStore, item: BatchItem, meta: CommandMeta): Promise<{ id: string; revision: bigint; created: boolean }> {
  switch (item.kind) {
    case 'register_unit': {
      const { unitId, callSign, agency, type, homeStation, position } = item;
      const result = await handleCommand(store, units, unitId, { type: 'RegisterUnit', data: { unitId, agency, callSign, unitType: type, homeStation, ...(position && { position }) } }, meta);
      return { id: unitId, revision: result.revision, created: true };
    }
    case 'report': {
      const { kind: _k, key: _key, occurredAt: _at, incidentId, ...data } = item;
      const command = { type: 'ReportIncident', data: { incidentId, ...data, priority: data.priority as PriorityLevel, agencies: data.agencies as Agency[] | undefined, source: 'phone' } } as IncidentCommand;
      const result = await handleCommand(store, incidents, incidentId, command, { ...meta, correlationId: incidentId });
      return { id: incidentId, revision: result.revision, created: true };
    }
    case 'assign': {
      const result = await assignUnit(store, { incidentId: item.incidentId, unitId: item.unitId }, { ...meta, correlationId: item.incidentId });
      return { id: item.incidentId, revision: result.incidentRevision, created: false };
    }
    case 'unit_status': {
      const result = await changeUnitStatus(
        store,
        { incidentId: item.incidentId, unitId: item.unitId, status: item.status, ...(item.destination !== undefined && { destination: item.destination }) },
        { ...meta, correlationId: item.incidentId },
      );
      return { id: item.incidentId, revision: result.incidentRevision, created: false };
    }
    default: {
      const command: IncidentCommand =
        item.kind === 'triage'
          ? { type: 'TriageIncident', data: { ...(item.priority !== undefined && { priority: item.priority as PriorityLevel }), ...(item.type !== undefined && { type: item.type }), ...(item.agencies !== undefined && { agencies: item.agencies as Agency[] }) } }
          : item.kind === 'resolve'
            ? { type: 'ResolveIncident', data: item.summary !== undefined ? { summary: item.summary } : {} }
            : item.kind === 'close'
              ? { type: 'CloseIncident', data: {} }
              : { type: 'CancelIncident', data: { reason: item.reason } };
      const meta2 = { ...meta, correlationId: item.incidentId, ...(item.kind === 'cancel' && { reason: item.reason }) };
      const result = await handleCommand(store, incidents, item.incidentId, command, meta2, { authorize: (state) => void existingIncident(state, item.incidentId) });
      return { id: item.incidentId, revision: result.revision, created: false };
    }
  }
}
