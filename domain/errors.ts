/**
 * A command the domain refuses. `code` drives the HTTP status (invalid_state → 409, invalid_payload → 400,
 * not_found → 404, conflict → 409); `message` is a sentence a dispatcher understands.
 */
export type DomainErrorCode = 'invalid_state' | 'invalid_payload' | 'not_found' | 'conflict';

export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    /** Extra facts for clients: current state, allowed commands, offending field… */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
