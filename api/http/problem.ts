import type { FastifyReply } from 'fastify';

/** RFC 9457 media type; clients tell an error body from a resource by it. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Problem type URIs are identifiers, not links; one per kind of failure a client may want to branch on. */
export const PROBLEM_BASE = 'urn:citybrain:problem:';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  [extension: string]: unknown;
}

const RESERVED = new Set(['type', 'title', 'status', 'detail', 'instance']);

/**
 * An error that already knows its HTTP answer. Throw it from any handler or hook; the error handler
 * turns it into a problem document.
 */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }

  get statusCode(): number {
    return this.status;
  }
}

export function problemBody(status: number, slug: string, title: string, detail: string, extensions: Record<string, unknown> = {}): ProblemBody {
  const body: ProblemBody = { type: `${PROBLEM_BASE}${slug}`, title, status, detail };
  // Extensions never override the standard members: a domain detail named "status" must not change the HTTP status.
  for (const [key, value] of Object.entries(extensions)) if (!RESERVED.has(key) && value !== undefined) body[key] = value;
  return body;
}

export function sendProblem(reply: FastifyReply, body: ProblemBody, headers: Record<string, string> = {}): FastifyReply {
  for (const [name, value] of Object.entries(headers)) reply.header(name, value);
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

export const forbidden = (detail: string, extensions: Record<string, unknown> = {}) => new HttpProblem(403, 'forbidden', 'Forbidden', detail, extensions);
export const notFound = (detail: string, extensions: Record<string, unknown> = {}) => new HttpProblem(404, 'not-found', 'Not Found', detail, extensions);
export const badRequest = (detail: string, extensions: Record<string, unknown> = {}) =>
  new HttpProblem(400, 'invalid-request', 'Bad Request', detail, extensions);
export const unauthorized = (detail: string) =>
  new HttpProblem(401, 'unauthorized', 'Unauthorized', detail, {}, { 'WWW-Authenticate': 'Bearer realm="citybrain"' });
