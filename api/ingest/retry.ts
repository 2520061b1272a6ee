import type { FastifyBaseLogger } from 'fastify';
import { problemFor } from '../http/errors.ts';

const RETRY_FIRST_MS = 500;
const RETRY_MOST_MS = 30_000;
/** Tries of work that fails in a way nobody foresaw (a 500) before it is given up, so it cannot stall what waits behind it. */
export const UNEXPECTED_TRIES = 5;

/**
 * What a failed try means, read the way the HTTP API answers it: the database away or a contended write may pass
 * later ('again'); a refusal of the alarm itself (an unknown sensor, an alarm id reused) will not ('refused'); anything
 * else is a fault ('fault').
 */
export function failureKind(error: unknown): 'again' | 'refused' | 'fault' {
  const { status, type } = problemFor(error).body;
  if (status === 503 || type.endsWith('/contended')) return 'again';
  return status < 500 ? 'refused' : 'fault';
}

export type Settled<T> =
  | { settled: 'done'; value: T }
  | { settled: 'refused'; error: unknown }
  | { settled: 'given-up'; error: unknown; tries: number }
  | { settled: 'closed' };

/** Pauses that a closing owner can cut short, all at once. */
export class Pauses {
  private readonly wakers = new Set<() => void>();
  private closed = false;

  get closing(): boolean {
    return this.closed;
  }

  /** Resolves after `ms`, or at once when closing. */
  pause(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  close(): void {
    this.closed = true;
    for (const wake of [...this.wakers]) wake();
  }
}

export interface RetryOptions {
  pauses: Pauses;
  log: FastifyBaseLogger;
  /** The first pause before another try (default 500 ms); each next pause doubles, up to 30 s. */
  retryFirstMs?: number;
  /** What the log lines say about the work (e.g. its topic and alarm id). */
  about: Record<string, unknown>;
  /** The work's name in log messages ("MQTT alarm"). */
  what: string;
  /** Logged beside `about` when the work is given up, so what was dropped can be found again (the alarm itself). */
  dropped?: unknown;
}

/**
 * Tries the work until it is settled: done; refused for good; or failed in an unforeseen way `UNEXPECTED_TRIES`
 * times. What may pass later (the database away, a contended write) is tried again with growing pauses, for as long
 * as it takes, unless the owner closes first. Whatever waits behind this work waits its turn meanwhile.
 */
export async function untilSettled<T>(work: () => Promise<T>, { pauses, log, retryFirstMs = RETRY_FIRST_MS, about, what, dropped }: RetryOptions): Promise<Settled<T>> {
  let faults = 0;
  for (let pause = retryFirstMs; !pauses.closing; pause = Math.min(pause * 2, RETRY_MOST_MS)) {
    try {
      return { settled: 'done', value: await work() };
    } catch (error) {
      const kind = failureKind(error);
      if (kind === 'refused') {
        log.warn({ err: error, ...about }, `${what} refused`);
        return { settled: 'refused', error };
      }
      if (kind === 'fault' && ++faults >= UNEXPECTED_TRIES) {
        log.error({ err: error, ...about, ...(dropped !== undefined && { dropped }) }, `${what} given up after ${faults} failed tries; the alarms behind it go on`);
        return { settled: 'given-up', error, tries: faults };
      }
      log.warn({ err: error, ...about, retryInMs: pause }, `${what} not stored yet; retrying`);
      await pauses.pause(pause);
    }
  }
  return { settled: 'closed' };
}
