// The queue of long-running enforcement cases (work safety, urban management): what is due when, what is late.
import type { EnforcementCase, EnforcementStage } from '../incident/coordination.ts';
import { isoFromEpochMs } from './time.ts';

export interface EnforcementQueueInput {
  incidentId: string;
  type: string;
  agencies: readonly string[];
  address?: string | null;
  enforcement: EnforcementCase;
}

export interface EnforcementQueueItem {
  incidentId: string;
  type: string;
  agencies: string[];
  address: string | null;
  stage: EnforcementStage;
  requirements: string | null;
  dueAt: string | null;
  /** Whole days until the due date (negative: that many days late), at `nowMs`. */
  daysLeft: number | null;
  overdue: boolean;
}

/** Cases still waiting for something (inspected with a violation, or under a rectification order), soonest due first. */
export function enforcementQueue(cases: readonly EnforcementQueueInput[], nowMs: number): EnforcementQueueItem[] {
  const t = nowMs;
  return cases
    .filter((c) => c.enforcement.stage === 'rectification_ordered' || (c.enforcement.stage === 'inspected' && c.enforcement.violationFound))
    .map((c) => {
      const due = c.enforcement.stage === 'rectification_ordered' && c.enforcement.dueAt ? Date.parse(c.enforcement.dueAt) : null;
      return {
        incidentId: c.incidentId,
        type: c.type,
        agencies: [...c.agencies],
        address: c.address ?? null,
        stage: c.enforcement.stage,
        requirements: c.enforcement.requirements ?? null,
        dueAt: due === null ? null : isoFromEpochMs(due),
        daysLeft: due === null ? null : Math.floor((due - t) / 86_400_000),
        overdue: due !== null && t > due,
      };
    })
    .sort((a, b) => (a.dueAt ?? '9999').localeCompare(b.dueAt ?? '9999') || a.incidentId.localeCompare(b.incidentId));
}
