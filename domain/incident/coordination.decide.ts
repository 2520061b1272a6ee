// Decisions on legs, mutual aid, merges, overdue alerts and enforcement cases. Split from incident.decider.ts
// only to keep files one concept each; it is the same decider (decide calls in here for these commands).
import { incidentTypeInfo, type Agency } from '../catalog.ts';
import { DomainError } from '../errors.ts';
import { compact, invalid, listWords, optionalText, requireAgency, requireText } from '../validation.ts';
import { coordinationView, ENFORCEMENT_TYPES, openLegs, type CoordinationView, type LegView } from './coordination.ts';
import { incidentStateName } from './incident.allowed.ts';
import type { IncidentCommand } from './incident.commands.ts';
import type { Ctx } from './incident.decider.ts';
import type { IncidentEvent, MergedReport } from './incident.events.ts';
import { incidentLabel } from './incident.label.ts';
import { isoFromEpochMs } from '../decision/time.ts';

export const COORDINATION_LIMITS = { note: 1000, summary: 2000, findings: 4000, requirements: 4000, maxDeadlineDays: 365, maxMergedReports: 200 } as const;

type CommandOf<T extends IncidentCommand['type']> = Extract<IncidentCommand, { type: T }>;

interface Helpers {
  requireUnitsCleared: (outcome: 'resolved' | 'cancelled' | 'merged') => void;
}

const LEG_WORDS: Record<LegView['status'], string> = {
  requested: 'asked for mutual aid and has not answered',
  declined: 'declined to help',
  pending: 'waiting for its first unit',
  dispatched: 'has units on the way',
  on_scene: 'has units on scene',
  cleared: 'has cleared its units',
  done: 'has completed its leg',
};

function view(ctx: Ctx): CoordinationView {
  return coordinationView(ctx.state.context.coordination, ctx.incident);
}

function refuse(ctx: Ctx, message: string, details: Record<string, unknown> = {}): never {
  throw new DomainError('invalid_state', message, { state: incidentStateName(ctx.state), ...details });
}

function legOf(ctx: Ctx, agency: Agency): LegView {
  const leg = view(ctx).legs.find((l) => l.agency === agency);
  if (!leg) refuse(ctx, `${ctx.label} does not involve ${agency}; escalate it or request mutual aid from ${agency} first.`, { agency });
  return leg;
}

/** A leg an agency is working on (not waiting for an answer, not declined, not finished). */
function workingLeg(ctx: Ctx, agency: Agency, doing: string): LegView {
  const leg = legOf(ctx, agency);
  if (leg.status === 'requested' || leg.status === 'declined' || leg.status === 'done') {
    refuse(ctx, `The ${agency} leg of ${ctx.label} ${LEG_WORDS[leg.status]}; it cannot ${doing}.`, { agency, legStatus: leg.status });
  }
  return leg;
}

export function coordinationDecision(command: IncidentCommand, ctx: Ctx, helpers: Helpers): IncidentEvent[] {
  switch (command.type) {
    case 'ClaimLeg': {
      const agency = requireAgency(command.data?.agency);
      const owner = requireText('owner', command.data?.owner, 'The owner', 100);
      const leg = workingLeg(ctx, agency, 'be taken over');
      if (leg.owner === owner) refuse(ctx, `You already own the ${agency} leg of ${ctx.label}.`, { agency });
      return [{ type: 'IncidentLegClaimed', data: { agency, owner } }];
    }
    case 'HandOverLead': {
      const to = requireAgency(command.data?.to, 'to');
      const from = view(ctx).lead;
      if (from === to) refuse(ctx, `${to} already leads ${ctx.label}.`, { lead: from });
      workingLeg(ctx, to, 'take the lead');
      const reason = optionalText('reason', command.data?.reason, 'The reason', COORDINATION_LIMITS.note);
      return [{ type: 'IncidentLeadHandedOver', data: compact({ from: from ?? to, to, reason }) }];
    }
    case 'RequestMutualAid': {
      const agency = requireAgency(command.data?.agency);
      const requestedBy = requireAgency(command.data?.requestedBy, 'requestedBy');
      if (agency === requestedBy) invalid('agency', `${agency} cannot request mutual aid from itself.`);
      workingLeg(ctx, requestedBy, 'request mutual aid');
      const existing = view(ctx).legs.find((l) => l.agency === agency);
      if (existing && existing.status !== 'declined') {
        refuse(ctx, `${agency} is already on ${ctx.label} (${LEG_WORDS[existing.status]}); there is nothing to request.`, { agency, legStatus: existing.status });
      }
      const note = optionalText('note', command.data?.note, 'The note', COORDINATION_LIMITS.note);
      return [{ type: 'MutualAidRequested', data: compact({ agency, requestedBy, note }) }];
    }
    case 'AcceptMutualAid':
    case 'DeclineMutualAid': {
      const agency = requireAgency(command.data?.agency);
      const leg = legOf(ctx, agency);
      if (leg.status !== 'requested') refuse(ctx, `No mutual-aid request to ${agency} is waiting on ${ctx.label}; its leg ${LEG_WORDS[leg.status]}.`, { agency, legStatus: leg.status });
      if (command.type === 'AcceptMutualAid') {
        return [{ type: 'MutualAidAccepted', data: { agency, owner: requireText('owner', command.data?.owner, 'The owner', 100) } }];
      }
      return [{ type: 'MutualAidDeclined', data: { agency, reason: requireText('reason', command.data?.reason, 'A reason for declining', COORDINATION_LIMITS.note) } }];
    }
    case 'CompleteLeg':
      return completeLeg(command, ctx);
    case 'FlagOverdue': {
      const d = command.data ?? ({} as CommandOf<'FlagOverdue'>['data']);
      const ruleId = requireText('ruleId', d.ruleId, 'The rule', 100);
      const since = requireText('since', d.since, 'The start of the status', 40);
      const active = ctx.state.context.coordination?.overdue ?? [];
      if (active.some((o) => o.ruleId === ruleId && o.unitId === d.unitId && o.since === since)) {
        throw new DomainError('conflict', `${ctx.label} is already flagged overdue for ${ruleId}.`, { ruleId });
      }
      return [
        {
          type: 'IncidentStatusOverdue',
          data: compact({
            ruleId,
            subject: d.subject === 'unit' ? ('unit' as const) : ('incident' as const),
            unitId: d.unitId,
            status: requireText('status', d.status, 'The status', 40),
            since,
            dueAt: requireText('dueAt', d.dueAt, 'The due time', 40),
            limitSeconds: Number(d.limitSeconds),
            clearsOn: d.clearsOn,
          }),
        },
      ];
    }
    case 'MergeIntoPrimary': {
      const primaryId = requireText('primaryId', command.data?.primaryId, 'The primary incident', 100);
      if (primaryId === ctx.incident.incidentId) invalid('into', `${ctx.label} cannot be merged into itself.`);
      helpers.requireUnitsCleared('merged');
      return [{ type: 'IncidentMergedInto', data: { primaryId } }];
    }
    case 'AbsorbDuplicate': {
      const d = command.data ?? ({} as CommandOf<'AbsorbDuplicate'>['data']);
      const duplicateId = requireText('duplicateId', d.duplicateId, 'The duplicate incident', 100);
      if (duplicateId === ctx.incident.incidentId) invalid('duplicateId', `${ctx.label} cannot be merged into itself.`);
      if (view(ctx).mergedFrom.includes(duplicateId)) {
        throw new DomainError('conflict', `${incidentLabel(duplicateId)} is already merged into ${ctx.label}.`, { duplicateId });
      }
      const reports = Array.isArray(d.reports) ? (d.reports.slice(0, COORDINATION_LIMITS.maxMergedReports) as MergedReport[]) : [];
      const notes = Array.isArray(d.notes) ? d.notes.filter((n): n is string => typeof n === 'string') : [];
      return [{ type: 'DuplicateIncidentMerged', data: { duplicateId, reports, notes } }];
    }
    case 'SplitOffDuplicate': {
      const duplicateId = requireText('duplicateId', command.data?.duplicateId, 'The merged incident', 100);
      if (!view(ctx).mergedFrom.includes(duplicateId)) {
        refuse(ctx, `${incidentLabel(duplicateId)} is not merged into ${ctx.label}; only a merged duplicate can be split off.`, { duplicateId, mergedFrom: view(ctx).mergedFrom });
      }
      return [{ type: 'MergedIncidentSplitOff', data: { duplicateId } }];
    }
    case 'RestoreFromMerge': {
      const primaryId = requireText('primaryId', command.data?.primaryId, 'The primary incident', 100);
      const into = ctx.state.context.coordination?.mergedInto;
      if (into !== primaryId) refuse(ctx, `${ctx.label} is not merged into ${incidentLabel(primaryId)}.`, { mergedInto: into ?? null });
      return [{ type: 'IncidentSplitFromPrimary', data: { primaryId } }];
    }
    case 'RecordInspection': {
      requireEnforcementType(ctx);
      const stage = ctx.state.context.coordination?.enforcement?.stage;
      if (stage !== undefined) refuse(ctx, `${ctx.label} already has an inspection on record (the case is ${stage.replace(/_/g, ' ')}); record a re-inspection instead.`, { enforcement: stage });
      const findings = requireText('findings', command.data?.findings, 'The findings', COORDINATION_LIMITS.findings);
      const violationFound = command.data?.violationFound;
      if (typeof violationFound !== 'boolean') invalid('violationFound', 'Say whether the inspection found a violation (true or false).');
      const inspected: IncidentEvent = { type: 'InspectionRecorded', data: { findings, violationFound } };
      return violationFound ? [inspected] : [inspected, { type: 'EnforcementCaseClosed', data: { outcome: 'no_violation' } }];
    }
    case 'OrderRectification': {
      requireEnforcementType(ctx);
      const e = ctx.state.context.coordination?.enforcement;
      const ready = (e?.stage === 'inspected' && e.violationFound) || e?.stage === 'escalated';
      if (!ready) {
        refuse(ctx, e ? `A rectification order needs an open violation; the case of ${ctx.label} is ${e.stage.replace(/_/g, ' ')}.` : `Record the inspection of ${ctx.label} before ordering rectification.`, {
          enforcement: e?.stage ?? null,
        });
      }
      const d = command.data ?? ({} as CommandOf<'OrderRectification'>['data']);
      const days = d.deadlineDays;
      if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > COORDINATION_LIMITS.maxDeadlineDays) {
        invalid('deadlineDays', `The deadline must be a whole number of days from 1 to ${COORDINATION_LIMITS.maxDeadlineDays}; got ${JSON.stringify(days)}.`);
      }
      const orderedAt = requireText('orderedAt', d.orderedAt, 'The time of the order', 40);
      const at = Date.parse(orderedAt);
      if (Number.isNaN(at)) invalid('orderedAt', `The time of the order is not a date: ${JSON.stringify(orderedAt)}.`);
      const dueAt = isoFromEpochMs(at + days * 86_400_000);
      return [
        {
          type: 'RectificationOrdered',
          data: { requirements: requireText('requirements', d.requirements, 'What must be rectified', COORDINATION_LIMITS.requirements), deadlineDays: days, orderedAt, dueAt },
        },
      ];
    }
    case 'RecordReinspection': {
      requireEnforcementType(ctx);
      const e = ctx.state.context.coordination?.enforcement;
      if (e?.stage !== 'rectification_ordered') {
        refuse(ctx, `There is no rectification order on ${ctx.label} to re-inspect${e ? ` (the case is ${e.stage.replace(/_/g, ' ')})` : ''}.`, { enforcement: e?.stage ?? null });
      }
      const findings = requireText('findings', command.data?.findings, 'The findings', COORDINATION_LIMITS.findings);
      const compliant = command.data?.compliant;
      if (typeof compliant !== 'boolean') invalid('compliant', 'Say whether the violation has been rectified (true or false).');
      const reinspected: IncidentEvent = { type: 'ReinspectionRecorded', data: { compliant, findings } };
      return compliant
        ? [reinspected, { type: 'EnforcementCaseClosed', data: { outcome: 'rectified' } }]
        : [reinspected, { type: 'EnforcementCaseEscalated', data: { reason: `Not rectified by the deadline (${e.dueAt?.slice(0, 10)}): ${findings}` } }];
    }
    default:
      throw new DomainError('invalid_payload', `Unknown incident command ${JSON.stringify((command as { type?: unknown }).type)}.`, { field: 'type' });
  }
}

function completeLeg(command: CommandOf<'CompleteLeg'>, ctx: Ctx): IncidentEvent[] {
  const agency = requireAgency(command.data?.agency);
  const leg = workingLeg(ctx, agency, 'be completed');
  const working = leg.units.filter((u) => u.status !== 'cleared');
  if (working.length > 0) {
    refuse(ctx, `The ${agency} leg of ${ctx.label} cannot be completed while its units are still working: clear ${working.map((u) => u.callSign).join(', ')} first.`, {
      agency,
      activeUnits: working.map((u) => u.unitId),
    });
  }
  const others = openLegs(view(ctx)).filter((l) => l.agency !== agency);
  if (leg.lead && others.length > 0) {
    refuse(
      ctx,
      `${agency} leads ${ctx.label} and ${listWords(others.map((l) => l.agency), 'and')} ${others.length === 1 ? 'is' : 'are'} still working; hand the lead to one of them before completing the ${agency} leg.`,
      { agency, openLegs: others.map((l) => l.agency) },
    );
  }
  const summary = optionalText('summary', command.data?.summary, 'The summary', COORDINATION_LIMITS.summary);
  const completed: IncidentEvent = { type: 'IncidentLegCompleted', data: compact({ agency, summary }) };
  if (others.length > 0) return [completed];
  // The last leg done is the incident done.
  return [completed, { type: 'IncidentResolved', data: { summary: `Every agency completed its leg; last: ${agency}${summary ? ` — ${summary}` : ''}` } }];
}

function requireEnforcementType(ctx: Ctx): void {
  if (ENFORCEMENT_TYPES.includes(ctx.incident.type)) return;
  const name = incidentTypeInfo(ctx.incident.type)?.en.toLowerCase() ?? ctx.incident.type;
  invalid('type', `Inspections and rectification orders are for work-safety and urban-management cases; ${ctx.label} is a ${name}.`, {
    enforcementTypes: ENFORCEMENT_TYPES,
  });
}
