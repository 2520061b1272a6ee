import {
  DomainError,
  incidentCoordination,
  incidentLabel,
  upcast,
  type IncidentState,
  type MergedReport,
} from '../../domain/index.ts';
import type { CommandMeta } from '../../domain/metadata.ts';
import type { EventStore, RecordedEvent } from '../../eventstore/port.ts';
import { incidents } from './aggregates.ts';
import { derivedCommandId } from './assignUnit.ts';
import { handleCommand, load, loadWithEvents } from './commandHandler.ts';
import { refusedForSure } from './errors.ts';

/** The caller's check that they may act on both incidents; throws to refuse before anything is written. */
export type AuthorizePair = (duplicate: IncidentState, primary: IncidentState) => void;

export interface PairResult {
  duplicateRevision: bigint;
  primaryRevision: bigint;
}

/** The reports and notes a duplicate brings along (reports as first made, before any triage): its own, and those of duplicates merged into it before. */
function carried(events: readonly RecordedEvent[], state: IncidentState): { reports: MergedReport[]; notes: string[] } {
  const reports: MergedReport[] = [];
  const notes: string[] = [];
  for (const e of events) {
    const version = Number((e.metadata as { schemaVersion?: number }).schemaVersion ?? 1);
    if (e.type === 'IncidentReported') {
      const d = upcast('IncidentReported', version, e.data);
      const occurredAt = (e.metadata as { occurredAt?: string }).occurredAt;
      reports.push({
        incidentId: d.incidentId,
        type: d.type,
        priority: d.priority,
        location: d.location,
        source: d.source,
        ...(d.address !== undefined && { address: d.address }),
        ...(d.description !== undefined && { description: d.description }),
        // The reporter's contact stays sealed on the duplicate's own stream (personal data); the primary refers to it by id.
        ...(occurredAt !== undefined && { reportedAt: occurredAt }),
      });
    } else if (e.type === 'IncidentNoteAdded') {
      notes.push(upcast('IncidentNoteAdded', version, e.data).text);
    }
  }
  const earlier = incidentCoordination(state);
  return { reports: [...reports, ...(earlier?.mergedReports ?? [])], notes: [...notes, ...(earlier?.mergedNotes ?? [])] };
}

/**
 * Merging touches two streams, like an assignment: close the duplicate as merged (its stream decides whether it
 * can still be merged), then record its reports and notes on the primary; if the primary refuses, the duplicate
 * is split off again by a compensating event. Every step is an event on one of the two streams.
 */
export async function mergeIncident(
  store: EventStore,
  input: { duplicateId: string; primaryId: string; authorize?: AuthorizePair },
  meta: CommandMeta,
): Promise<PairResult> {
  const { duplicateId, primaryId } = input;
  if (duplicateId === primaryId) throw new DomainError('invalid_payload', `${incidentLabel(duplicateId)} cannot be merged into itself.`, { field: 'into' });
  const correlated: CommandMeta = { ...meta, correlationId: meta.correlationId ?? primaryId };
  const [duplicate, primary] = await Promise.all([loadWithEvents(store, incidents, duplicateId), load(store, incidents, primaryId)]);
  input.authorize?.(duplicate.state, primary.state);
  if (duplicate.revision < 0n) throw new DomainError('not_found', `There is no incident ${incidentLabel(duplicateId)}.`);
  if (primary.revision < 0n) throw new DomainError('not_found', `There is no incident ${incidentLabel(primaryId)}.`);
  const { reports, notes } = carried(duplicate.events, duplicate.state);
  const absorb = { type: 'AbsorbDuplicate' as const, data: { duplicateId, reports, notes } };
  // Refuse early, with nothing written, when the primary could not take the duplicate as things stand.
  if (primary.revisionOf(meta.commandId) === undefined) incidents.decider.decide(absorb, primary.state);

  const closed = await handleCommand(store, incidents, duplicateId, { type: 'MergeIntoPrimary', data: { primaryId } }, correlated);
  try {
    const absorbed = await handleCommand(store, incidents, primaryId, absorb, correlated);
    return { duplicateRevision: closed.revision, primaryRevision: absorbed.revision };
  } catch (error) {
    if (!refusedForSure(error)) throw error;
    const why = error instanceof Error ? error.message : String(error);
    await handleCommand(
      store,
      incidents,
      duplicateId,
      { type: 'RestoreFromMerge', data: { primaryId } },
      { ...correlated, commandId: derivedCommandId(meta.commandId, 'unmerge'), causationId: meta.commandId, reason: `compensation: ${why}`.slice(0, 500) },
    );
    throw error;
  }
}

/**
 * Undoes a merge: the primary lets the duplicate's reports and notes go, then the duplicate becomes an incident of
 * its own again, in the state it had before. If the duplicate refuses, the primary takes them back.
 */
export async function splitIncident(
  store: EventStore,
  input: { primaryId: string; duplicateId: string; authorize?: AuthorizePair },
  meta: CommandMeta,
): Promise<PairResult> {
  const { duplicateId, primaryId } = input;
  const correlated: CommandMeta = { ...meta, correlationId: meta.correlationId ?? primaryId };
  const [duplicate, primary] = await Promise.all([loadWithEvents(store, incidents, duplicateId), load(store, incidents, primaryId)]);
  input.authorize?.(duplicate.state, primary.state);
  if (duplicate.revision < 0n) throw new DomainError('not_found', `There is no incident ${incidentLabel(duplicateId)}.`);
  if (primary.revision < 0n) throw new DomainError('not_found', `There is no incident ${incidentLabel(primaryId)}.`);
  const mine = (e: RecordedEvent) => (e.metadata as { commandId?: string }).commandId === meta.commandId;
  if (!duplicate.events.some(mine)) incidents.decider.decide({ type: 'RestoreFromMerge', data: { primaryId } }, duplicate.state);
  const entry = incidentCoordination(primary.state);
  const reports = entry?.mergedReports.filter((r) => r.incidentId !== primaryId) ?? [];

  const released = await handleCommand(store, incidents, primaryId, { type: 'SplitOffDuplicate', data: { duplicateId } }, correlated);
  try {
    const restored = await handleCommand(store, incidents, duplicateId, { type: 'RestoreFromMerge', data: { primaryId } }, correlated);
    return { duplicateRevision: restored.revision, primaryRevision: released.revision };
  } catch (error) {
    if (!refusedForSure(error)) throw error;
    const why = error instanceof Error ? error.message : String(error);
    const carriedBack = carried(duplicate.events, duplicate.state);
    await handleCommand(
      store,
      incidents,
      primaryId,
      { type: 'AbsorbDuplicate', data: { duplicateId, reports: carriedBack.reports.length ? carriedBack.reports : reports, notes: carriedBack.notes } },
      { ...correlated, commandId: derivedCommandId(meta.commandId, 'remerge'), causationId: meta.commandId, reason: `compensation: ${why}`.slice(0, 500) },
    );
    throw error;
  }
}
