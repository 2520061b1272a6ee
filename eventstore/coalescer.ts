// Many requests' small writes as one statement: the first item goes at once; items that arrive while a statement
// is in flight wait for it and then go together. Under load a round trip per request becomes one per batch;
// when idle nothing waits. (A query costs more in system calls here than in PostgreSQL.)

interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

export class Coalescer<I, O> {
  private queue: Array<Waiting<I, O>> = [];
  private running = false;

  /**
   * `flush` answers for every item, in order. Items with the same `keyOf` never share a batch (the later one
   * waits for the next), so a statement never meets one row twice.
   */
  private generation = 0;

  /**
   * A statement that has not answered within `timeoutMs` fails its batch (as unreachable, ETIMEDOUT: the API
   * answers 503) and the next batch goes: one connection that hangs must not hold up every request behind it.
   */
  constructor(
    private readonly flush: (items: I[]) => Promise<O[]>,
    private readonly keyOf: (item: I) => string,
    private readonly maxBatch = 256,
    private readonly timeoutMs = 10_000,
  ) {}

  run(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    if (this.running || this.queue.length === 0) return;
    const batch: Array<Waiting<I, O>> = [];
    const keys = new Set<string>();
    const rest: Array<Waiting<I, O>> = [];
    for (const waiting of this.queue) {
      const key = this.keyOf(waiting.item);
      if (batch.length < this.maxBatch && !keys.has(key)) {
        keys.add(key);
        batch.push(waiting);
      } else {
        rest.push(waiting);
      }
    }
    this.queue = rest;
    this.running = true;
    const generation = ++this.generation;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = Object.assign(new Error(`the database did not answer within ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' });
        reject(error);
      }, this.timeoutMs);
    });
    Promise.race([this.flush(batch.map((w) => w.item)), timedOut])
      .then(
        (results) => batch.forEach((w, i) => w.resolve(results[i] as O)),
        (error: unknown) => batch.forEach((w) => w.reject(error)),
      )
      .finally(() => {
        clearTimeout(timer);
        // A late answer from a batch given up on must not start a second batch beside the current one.
        if (generation !== this.generation) return;
        this.running = false;
        this.next();
      });
  }
}
