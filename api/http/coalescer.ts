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
  constructor(
    private readonly flush: (items: I[]) => Promise<O[]>,
    private readonly keyOf: (item: I) => string,
    private readonly maxBatch = 256,
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
    this.flush(batch.map((w) => w.item))
      .then(
        (results) => batch.forEach((w, i) => w.resolve(results[i] as O)),
        (error: unknown) => batch.forEach((w) => w.reject(error)),
      )
      .finally(() => {
        this.running = false;
        this.next();
      });
  }
}
