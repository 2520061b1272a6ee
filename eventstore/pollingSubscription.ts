import { START, type LogPosition, type ReadAllOptions, type RecordedEvent, type Subscription } from './port.ts';

export interface PollingSource {
  readAll(options: ReadAllOptions): Promise<RecordedEvent[]>;
  /**
   * True when committed events exist that readAll does not return yet because an older transaction is
   * still open. Such a barrier usually lifts within milliseconds, and nothing may announce it.
   */
  hasHeldBackEvents(): Promise<boolean>;
}

export interface PollingOptions {
  from?: LogPosition;
  streamPrefixes?: string[];
  batchSize: number;
  pollIntervalMs: number;
}

const FIRST_RETRY_MS = 2;
// Held-back events wait on someone else's open transaction, usually milliseconds: look again often, not ever later.
const MAX_RETRY_MS = 50;

/**
 * A catch-up subscription over a log that can only be polled. It reads batches until it is caught up,
 * then sleeps until woken (an append in this process, a NOTIFY) or until the poll interval elapses,
 * so a wake-up that was lost or never sent costs latency, never an event.
 */
export class PollingSubscription implements Subscription {
  readonly done: Promise<void>;
  private closed = false;
  /** Set by wake(); cleared before each read so a wake-up that arrives mid-read is not lost. */
  private woken = false;
  private sleeper: (() => void) | undefined;

  constructor(
    private readonly source: PollingSource,
    private readonly options: PollingOptions,
    private readonly handler: (batch: RecordedEvent[]) => Promise<void>,
    private readonly onStop: () => void,
  ) {
    this.done = this.run().finally(onStop);
    // close() reports a failure through done; an unobserved rejection must not crash the process.
    this.done.catch(() => {});
  }

  wake(): void {
    this.woken = true;
    const sleeper = this.sleeper;
    this.sleeper = undefined;
    sleeper?.();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake();
    await this.done.catch(() => {});
  }

  private async run(): Promise<void> {
    let from = this.options.from ?? START;
    let retryMs = FIRST_RETRY_MS;
    while (!this.closed) {
      this.woken = false;
      const batch = await this.source.readAll({
        from,
        maxCount: this.options.batchSize,
        ...(this.options.streamPrefixes && { streamPrefixes: this.options.streamPrefixes }),
      });
      if (this.closed) return;
      if (batch.length > 0) {
        await this.handler(batch);
        from = batch[batch.length - 1]!.position;
        retryMs = FIRST_RETRY_MS;
        if (batch.length === this.options.batchSize) continue;
      }
      if (this.woken || this.closed) continue;
      let delay = this.options.pollIntervalMs;
      if (await this.source.hasHeldBackEvents()) {
        delay = Math.min(retryMs, this.options.pollIntervalMs);
        retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
      } else {
        retryMs = FIRST_RETRY_MS;
      }
      await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeper = undefined;
        resolve();
      }, ms);
      this.sleeper = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
