import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { AGENCIES, ROLES, incidentLabel, listWords, type Agency, type Role } from '../../domain/index.ts';
import { forbidden, unauthorized } from '../http/problem.ts';
import type { Actor } from './actor.ts';

const ROLE_PLURALS: Record<Role, string> = {
  dispatcher: 'dispatchers',
  supervisor: 'supervisors',
  auditor: 'auditors',
  admin: 'admins',
};

/** Verifies the bearer token; the claims become `request.user`. */
export async function authenticate(request: FastifyRequest): Promise<void> {
  await request.jwtVerify();
  const user = request.user as Partial<Actor> | undefined;
  // A token signed with our secret but without the claims we issue is not one of ours.
  if (!user || typeof user.id !== 'string' || user.purpose !== undefined || !(ROLES as readonly unknown[]).includes(user.role) || !(AGENCIES as readonly unknown[]).includes(user.agency)) {
    throw unauthorized('Your token is not valid; log in again.');
  }
}

/**
 * An onRequest hook: authenticated, and one of `roles`, or 403 saying who may.
 * Runs before the body is validated, so a caller without the right learns that first.
 */
export function allowRoles(roles: readonly Role[], action: string): onRequestAsyncHookHandler {
  return async (request) => {
    await authenticate(request);
    const { role } = request.user;
    if (!roles.includes(role)) {
      // Admins can do everything; naming them in every sentence would only add noise.
      const named = roles.filter((r) => r !== 'admin' || roles.length === 1).map((r) => ROLE_PLURALS[r]);
      throw forbidden(`Only ${listWords(named, 'and')} can ${action}; you are signed in as ${article(role)} ${role}.`, { role, allowedRoles: roles });
    }
  };
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

/** Admins act on the whole city; everyone else within their agency. */
export function actsCitywide(actor: Actor): boolean {
  return actor.role === 'admin';
}

/** Admins and auditors read the whole city; dispatchers and supervisors what involves their agency. */
export function readsCitywide(actor: Actor): boolean {
  return actor.role === 'admin' || actor.role === 'auditor';
}

export function canSeeIncident(actor: Actor, agencies: readonly string[]): boolean {
  return readsCitywide(actor) || agencies.includes(actor.agency);
}

export function requireIncidentInScope(actor: Actor, incidentId: string, agencies: readonly string[]): void {
  if (actsCitywide(actor) || agencies.includes(actor.agency)) return;
  throw forbidden(`Incident ${incidentLabel(incidentId)} does not involve your agency (${actor.agency}).`, {
    incidentId,
    agencies,
    yourAgency: actor.agency,
  });
}

export function requireVisibleIncident(actor: Actor, incidentId: string, agencies: readonly string[]): void {
  if (canSeeIncident(actor, agencies)) return;
  throw forbidden(`Incident ${incidentLabel(incidentId)} does not involve your agency (${actor.agency}).`, {
    incidentId,
    agencies,
    yourAgency: actor.agency,
  });
}

export function requireUnitInScope(actor: Actor, unit: { id: string; callSign: string; agency: Agency }): void {
  if (actsCitywide(actor) || unit.agency === actor.agency) return;
  throw forbidden(`Unit ${unit.callSign} belongs to ${unit.agency}, not to your agency (${actor.agency}).`, {
    unitId: unit.id,
    unitAgency: unit.agency,
    yourAgency: actor.agency,
  });
}
