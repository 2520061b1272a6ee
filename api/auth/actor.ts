import type { Agency, Role } from '../../domain/index.ts';

/** Who is calling, as the verified token says. Every command's metadata is built from it. */
export interface Actor {
  id: string;
  username: string;
  role: Role;
  agency: Agency;
  /** Set on special-purpose tokens (a live-feed ticket), which must not work as a bearer token. */
  purpose?: string;
}

/** The token's claims: `sub` is the user id; role and agency are fixed for the token's life. */
export interface TokenClaims {
  sub: string;
  username: string;
  role: Role;
  agency: Agency;
  purpose?: string;
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: TokenClaims;
    user: Actor;
  }
}
