import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type DomainErrorCode } from '../../domain/errors.ts';
import { isDatabaseUnreachable } from '../../eventstore/connectionFailure.ts';
import { ConcurrencyError, DuplicateEventError } from '../../eventstore/port.ts';
import { ContendedError, StaleRevisionError } from '../commands/errors.ts';
import { HttpProblem, problemBody, sendProblem, type ProblemBody } from './problem.ts';
import { describeValidationError, type SchemaError } from './validationMessages.ts';

/** Seconds a client should wait before retrying when the database is unreachable. */
const DATABASE_RETRY_AFTER = '5';

const DOMAIN_STATUS: Record<DomainErrorCode, { status: number; slug: string; title: string }> = {
  invalid_state: { status: 409, slug: 'invalid-state', title: 'Not allowed in the current state' },
  invalid_payload: { status: 400, slug: 'invalid-payload', title: 'Bad Request' },
  not_found: { status: 404, slug: 'not-found', title: 'Not Found' },
  conflict: { status: 409, slug: 'conflict', title: 'Conflict' },
};

const JWT_DETAIL: Record<string, string> = {
  FST_JWT_NO_AUTHORIZATION_IN_HEADER: 'Log in first: send the token from POST /api/auth/login as "Authorization: Bearer <token>".',
  FST_JWT_AUTHORIZATION_TOKEN_EXPIRED: 'Your session has expired; log in again.',
  FST_JWT_BAD_REQUEST: 'The Authorization header must read "Bearer <token>".',
};

interface Answer {
  body: ProblemBody;
  headers?: Record<string, string>;
}

/** Maps anything thrown by a route, a hook, a plugin or the store to its problem document. */
export function problemFor(error: unknown, request?: FastifyRequest): Answer {
  if (error instanceof HttpProblem) {
    return { body: problemBody(error.status, error.slug, error.title, error.message, error.extensions), headers: error.headers };
  }
  if (error instanceof DomainError) {
    const { status, slug, title } = DOMAIN_STATUS[error.code] ?? DOMAIN_STATUS.conflict;
    return { body: problemBody(status, slug, title, error.message, { code: error.code, ...error.details }) };
  }
  if (error instanceof StaleRevisionError) {
    const current = Number(error.actual);
    return {
      body: problemBody(412, 'stale-revision', 'Precondition Failed', error.message, { expectedRevision: Number(error.expected), currentRevision: current }),
      headers: current >= 0 ? { ETag: `"${current}"` } : {},
    };
  }
  if (error instanceof ContendedError || error instanceof ConcurrencyError) {
    return { body: problemBody(409, 'contended', 'Conflict', error instanceof ContendedError ? error.message : 'Someone else changed this record at the same moment; please try again.') };
  }
  if (error instanceof DuplicateEventError) {
    return {
      body: problemBody(422, 'idempotency-key-reused', 'Unprocessable Content', 'This command id was already used for a different change; send a new Idempotency-Key.'),
    };
  }
  if (isDatabaseUnreachable(error)) {
    return {
      body: problemBody(503, 'database-unavailable', 'Service Unavailable', 'The database cannot be reached right now; please retry shortly.'),
      headers: { 'Retry-After': DATABASE_RETRY_AFTER },
    };
  }

  const fastifyError = error as Partial<FastifyError> & { validation?: SchemaError[]; validationContext?: string };
  if (Array.isArray(fastifyError.validation)) {
    const { field, detail } = describeValidationError(fastifyError.validation, fastifyError.validationContext);
    return { body: problemBody(400, 'validation', 'Bad Request', detail, { field, in: fastifyError.validationContext }) };
  }
  const code = typeof fastifyError.code === 'string' ? fastifyError.code : '';
  if (code.startsWith('FST_JWT_') || code.startsWith('FAST_JWT_')) {
    return {
      body: problemBody(401, 'unauthorized', 'Unauthorized', JWT_DETAIL[code] ?? 'Your token is not valid; log in again.'),
      headers: { 'WWW-Authenticate': 'Bearer realm="citybrain"' },
    };
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { body: problemBody(status, clientErrorSlug(status, code), clientErrorTitle(status), clientErrorDetail(status, code, fastifyError.message)) };
  }

  request?.log.error({ err: error }, 'unhandled error');
  return {
    body: problemBody(500, 'internal', 'Internal Server Error', `Something went wrong on our side${request ? ` (request ${request.id})` : ''}; it has been logged.`),
  };
}

function clientErrorSlug(status: number, code: string): string {
  if (status === 413) return 'body-too-large';
  if (status === 415) return 'unsupported-media-type';
  if (code.startsWith('FST_ERR_CTP_')) return 'malformed-body';
  return `http-${status}`;
}

function clientErrorTitle(status: number): string {
  const titles: Record<number, string> = {
    400: 'Bad Request',
    404: 'Not Found',
    405: 'Method Not Allowed',
    406: 'Not Acceptable',
    413: 'Content Too Large',
    415: 'Unsupported Media Type',
    429: 'Too Many Requests',
  };
  return titles[status] ?? 'Client Error';
}

// Fastify's own messages are for developers ("Body cannot be empty when content-type is set to
// 'application/json'"); most already read as a sentence, a few get a plainer one.
function clientErrorDetail(status: number, code: string, message: string | undefined): string {
  if (status === 413) return 'The request body is too large.';
  if (status === 415) return 'Send the request body as JSON (Content-Type: application/json).';
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (code === '' && status === 400 && /JSON/.test(message ?? ''))) {
    return 'The request body is not valid JSON.';
  }
  const text = (message ?? '').trim();
  return text === '' ? clientErrorTitle(status) : /[.!?]$/.test(text) ? text : `${text}.`;
}

export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { body, headers } = problemFor(error, request);
  if (body.status >= 500 && body.status !== 500) request.log.warn({ err: error }, body.detail);
  return sendProblem(reply, body, headers);
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problemBody(404, 'not-found', 'Not Found', `There is no ${request.method} ${(request.url.split('?')[0] ?? '').slice(0, 200)} here.`)),
  );
}
