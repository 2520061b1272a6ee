import { DomainError } from '../../domain/errors.ts';
/** The caller's If-Match no longer matches the stream: someone changed it since they looked (HTTP 412). */
export class StaleRevisionError extends Error {
  override readonly name = 'StaleRevisionError';
  constructor(
    readonly streamId: string,
    readonly expected: bigint,
    readonly actual: bigint,
  ) {
    super(`This record changed since you loaded it (you had revision ${expected}, it is now at ${actual}). Reload and try again.`);
  }
}

/** Optimistic concurrency kept failing: the stream is too busy to take the command now (HTTP 409, retryable). */
export class ContendedError extends Error {
  override readonly name = 'ContendedError';
  constructor(readonly streamId: string, attempts: number) {
    super(`Too many simultaneous changes to ${streamId}; gave up after ${attempts} attempts. Please try again.`);
  }
}

/**
 * Whether a failed step of a two-stream command was a definite refusal, so that undoing the first step is right.
 * Anything else (a lost connection, a timeout) leaves the outcome unknown — the step may have been written — and
 * compensating then could undo a change that did happen; the caller's retry with the same command id completes it.
 */
export function refusedForSure(error: unknown): boolean {
  return error instanceof DomainError || error instanceof StaleRevisionError || error instanceof ContendedError;
}
