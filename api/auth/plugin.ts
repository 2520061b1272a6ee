import jwt from '@fastify/jwt';
import type { FastifyPluginAsync } from 'fastify';
import type { Sql } from 'postgres';
import { Type } from 'typebox';
import { AgencyId, Closed, Id, RoleId, problems } from '../http/schemas.ts';
import { unauthorized } from '../http/problem.ts';
import type { Actor, TokenClaims } from './actor.ts';
import { authenticate } from './guards.ts';
import { verifyAgainstDecoy, verifyPassword } from './passwords.ts';
import { findUserById, findUserByUsername, publicUser } from './users.ts';

export interface AuthOptions {
  sql: Sql;
  secret: string;
  /** e.g. "12h": one shift. */
  expiresIn: string;
  /** Login attempts per minute per client address. */
  loginRateLimitMax: number;
}

const UserBody = Closed({ id: Id, username: Type.String(), displayName: Type.String(), role: RoleId, agency: AgencyId });

// One sentence for both cases, so the answer does not tell a guesser which usernames exist.
const BAD_LOGIN = 'Unknown username or wrong password.';

const auth: FastifyPluginAsync<AuthOptions> = async (app, options) => {
  await app.register(jwt, {
    secret: options.secret,
    sign: { expiresIn: options.expiresIn },
    // fast-jwt remembers tokens it has verified (never past their expiry): every command would otherwise compute
    // the same HMAC again for the same dispatcher's token.
    verify: { cache: 10_000 },
    formatUser: (claims: TokenClaims): Actor => ({
      id: claims.sub,
      username: claims.username,
      role: claims.role,
      agency: claims.agency,
      ...(claims.purpose !== undefined && { purpose: claims.purpose }),
    }),
  });

  app.post(
    '/api/auth/login',
    {
      config: { rateLimit: { max: options.loginRateLimitMax, timeWindow: '1 minute' } },
      schema: {
        tags: ['auth'],
        summary: 'Log in: exchange a username and password for a bearer token',
        body: Closed({ username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 1024 }) }),
        response: {
          200: Closed({ token: Type.String(), expiresAt: Type.String({ format: 'date-time' }), user: UserBody }),
          ...problems(400, 401, 429),
        },
      },
    },
    async (request) => {
      const { username, password } = request.body as { username: string; password: string };
      const user = await findUserByUsername(options.sql, username);
      const ok = user ? await verifyPassword(password, user.passwordHash) : await verifyAgainstDecoy(password);
      if (!user || !ok) {
        request.log.info({ username: username.slice(0, 64) }, 'failed login');
        throw unauthorized(BAD_LOGIN);
      }
      const token = app.jwt.sign({ sub: user.id, username: user.username, role: user.role, agency: user.agency } satisfies TokenClaims);
      const { exp } = app.jwt.decode<{ exp: number }>(token) ?? { exp: 0 };
      return { token, expiresAt: new Date(exp * 1000).toISOString(), user: publicUser(user) };
    },
  );

  app.get(
    '/api/auth/me',
    {
      onRequest: authenticate,
      schema: {
        tags: ['auth'],
        summary: 'Who the token belongs to',
        security: [{ bearerAuth: [] }],
        response: { 200: UserBody, ...problems(401) },
      },
    },
    async (request) => {
      const user = await findUserById(options.sql, request.user.id);
      if (!user) throw unauthorized('Your account no longer exists; log in again.');
      return publicUser(user);
    },
  );
};

// Not encapsulated: the JWT decorators (request.jwtVerify, app.jwt) must reach every other plugin, live feed included.
(auth as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;

export default auth;
