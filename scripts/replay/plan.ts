// A replay plan: every fact of every call as one API command, in the order it happened.
import type { AssignedUnitStatus } from '../../domain/incident/incident.events.ts';
import { reachedScene } from './kpis.ts';
import type { SfCall, SfUnitResponse } from './sfCalls.ts';

export type Step =
  | { at: number; kind: 'report'; call: SfCall }
  | { at: number; kind: 'triage'; call: SfCall }
  | { at: number; kind: 'resolve'; call: SfCall }
  | { at: number; kind: 'close'; call: SfCall }
  | { at: number; kind: 'assign'; call: SfCall; unit: SfUnitResponse }
  | { at: number; kind: 'status'; call: SfCall; unit: SfUnitResponse; status: AssignedUnitStatus };

/** When the call's last recorded fact happened: the incident is resolved and closed then. */
export function callEnd(call: SfCall): number {
  let end = Math.max(call.received, call.entry ?? call.received);
  for (const u of call.units) for (const t of [u.dispatch, u.response, u.onScene, u.transport, u.hospital, u.available]) if (t !== undefined) end = Math.max(end, t);
  return end;
}

/**
 * The steps of one call. A unit's times only move forward (the file has a few hospital arrivals logged a
 * second before the transport, and the like): each is taken no earlier than the one before it, which never
 * moves a unit's first dispatch or arrival, the times the KPIs use.
 */
export function callSteps(call: SfCall): Step[] {
  const steps: Step[] = [{ at: call.received, kind: 'report', call }];
  const dispatched = call.units.filter((u) => u.dispatch !== undefined);
  const firstDispatch = Math.min(...dispatched.map((u) => u.dispatch!), Number.POSITIVE_INFINITY);
  steps.push({ at: Math.min(Math.max(call.entry ?? call.received, call.received), firstDispatch), kind: 'triage', call });
  const end = callEnd(call);
  for (const unit of dispatched) {
    let t = unit.dispatch!;
    steps.push({ at: t, kind: 'assign', call, unit });
    const status = (s: AssignedUnitStatus, at: number) => {
      t = Math.max(t, at);
      steps.push({ at: t, kind: 'status', call, unit, status: s });
    };
    if (unit.response !== undefined) status('en_route', unit.response);
    const arrived = reachedScene(unit);
    if (arrived !== undefined) status('on_scene', arrived);
    if (unit.transport !== undefined || unit.hospital !== undefined) status('transporting', unit.transport ?? unit.hospital!);
    if (unit.hospital !== undefined) status('at_hospital', unit.hospital);
    status('cleared', unit.available ?? end);
  }
  steps.push({ at: Math.max(end, ...steps.map((s) => s.at)), kind: 'resolve', call });
  steps.push({ at: steps.at(-1)!.at, kind: 'close', call });
  return steps;
}

/** Every call's steps merged into one timeline; equal times keep each call's own order. */
export function replayPlan(calls: readonly SfCall[]): Step[] {
  const all = calls.flatMap((call) => callSteps(call)).map((step, seq) => ({ step, seq }));
  all.sort((a, b) => a.step.at - b.step.at || a.seq - b.seq);
  return all.map((x) => x.step);
}
