// Security headers and rate limits for every route.
import helmet from 'helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync } from 'fastify';
import { HttpProblem } from '../http/problem.ts';

export interface ProtectionOptions {
  /** Requests per minute per client address. */
  rateLimitMax: number;
}

const protection: FastifyPluginAsync<ProtectionOptions> = async (app, options) => {
  // helmet itself, built once: the Fastify wrapper built the middleware again, directives parsed, on every request.
  const securityHeaders = helmet({
    // Tiles come from a configurable server and the map draws them on a canvas: images may be cross-origin.
    crossOriginResourcePolicy: { policy: 'same-site' },
    contentSecurityPolicy: {
      directives: { 'img-src': ["'self'", 'data:', 'blob:', 'https:'], 'connect-src': ["'self'", 'ws:', 'wss:'] },
    },
  });
  app.addHook('onRequest', (request, reply, done) => {
    securityHeaders(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined));
  });
  await app.register(rateLimit, {
    global: true,
    max: options.rateLimitMax,
    timeWindow: '1 minute',
    errorResponseBuilder: (_request, context) =>
      new HttpProblem(429, 'rate-limited', 'Too Many Requests', `Too many requests; try again in ${context.after}.`, { limit: context.max }),
  });
};

// Not encapsulated: the hooks must cover routes registered by every other plugin.
(protection as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;

export default protection;
