import type { LiveUser } from './messages.ts';

/**
 * Who may see which change. Dispatchers and supervisors work for one agency: they see the incidents their
 * agency is on (the board row's agencies, so an escalation brings the incident into view) and every unit,
 * because assigning the nearest unit means knowing where everyone is. Auditors and admins see everything.
 */
export interface Scope {
  seesIncident(agencies: readonly string[] | null | undefined): boolean;
}

const everything: Scope = { seesIncident: () => true };

export function scopeFor(user: LiveUser): Scope {
  if (user.role === 'auditor' || user.role === 'admin') return everything;
  const agency = user.agency;
  // An incident whose board row is missing (mid-rebuild) has unknown agencies: show it to no one scoped.
  return { seesIncident: (agencies) => agencies?.includes(agency) ?? false };
}
