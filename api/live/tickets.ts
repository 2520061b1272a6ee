import type { FastifyInstance } from 'fastify';
import { AGENCIES, ROLES } from '../../domain/index.ts';
import type { Actor, TokenClaims } from '../auth/actor.ts';
import { unauthorized } from '../http/problem.ts';

/** Marks a ticket: a token that opens the live feed and nothing else (the bearer guard refuses it). */
export const TICKET_PURPOSE = 'live';

/**
 * A browser cannot put a bearer token on a WebSocket upgrade, and a shift-long token in a URL ends up in
 * logs and history. So the page trades its token for a ticket that lives a minute and only opens the feed.
 */
export function issueTicket(app: FastifyInstance, actor: Actor, ttlSeconds: number): { ticket: string; expiresIn: number } {
  const claims: TokenClaims = { sub: actor.id, username: actor.username, role: actor.role, agency: actor.agency, purpose: TICKET_PURPOSE };
  return { ticket: app.jwt.sign(claims, { expiresIn: ttlSeconds }), expiresIn: ttlSeconds };
}

/** Who is opening the feed: from `?ticket=` (browsers) or `?token=` (scripts holding a bearer token). */
export function actorFromUpgrade(app: FastifyInstance, query: { ticket?: string; token?: string }): Actor {
  const byTicket = query.ticket !== undefined;
  const presented = query.ticket ?? query.token;
  const renew = byTicket ? 'ask POST /api/live/ticket for a new one' : 'log in again';
  if (presented === undefined) {
    throw unauthorized('Open the live feed with ?ticket=<ticket from POST /api/live/ticket> (or ?token=<bearer token>).');
  }
  let claims: Partial<TokenClaims>;
  try {
    claims = app.jwt.verify<TokenClaims>(presented);
  } catch (error) {
    const expired = (error as { code?: string }).code === 'FAST_JWT_EXPIRED';
    throw unauthorized(`The ${byTicket ? 'live feed ticket' : 'token'} ${expired ? 'has expired' : 'is not valid'}; ${renew}.`);
  }
  // Each door takes only its own key: a ticket must be a ticket, and ?token= must be a plain bearer token.
  if (byTicket && claims.purpose !== TICKET_PURPOSE) throw unauthorized('That is not a live feed ticket; ask POST /api/live/ticket for one.');
  if (!byTicket && claims.purpose !== undefined) throw unauthorized('That token cannot be used as a bearer token; pass a ticket as ?ticket=.');
  if (
    typeof claims.sub !== 'string' ||
    typeof claims.username !== 'string' ||
    !(ROLES as readonly unknown[]).includes(claims.role) ||
    !(AGENCIES as readonly unknown[]).includes(claims.agency)
  ) {
    throw unauthorized(`The ${byTicket ? 'ticket' : 'token'} does not say who you are; ${renew}.`);
  }
  return { id: claims.sub, username: claims.username, role: claims.role!, agency: claims.agency! };
}
