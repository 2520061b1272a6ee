// A dispatcher's working day as HTTP load: each worker runs whole incidents (report, triage, assign its own unit,
// en route, on scene, a note, cleared, resolve, close), every command with an Idempotency-Key, and records what
// the server answered. A request that got no answer (the server died) or a 503 stays pending, so it can be
// sent again, with the same key, once the server is back.
import { randomUUID } from 'node:crypto';
import { callChild } from '../support/childServer.ts';
import { JIAN_CENTRE, placeInCentre } from '../support/places.ts';

export interface SentCommand {
  key: string;
  method: string;
  path: string;
  body: unknown;
}

export interface Acknowledged extends SentCommand {
  status: number;
  commandId: string;
  /** The incident or unit the command created or touched. */
  id: string;
}

export interface Refusal {
  status: number;
  contentType: string | null;
  retryAfter: string | null;
  body: any;
}

type Step = (w: WorkerState) => SentCommand;

interface WorkerState {
  index: number;
  unitId?: string;
  incidentId?: string;
  step: number;
  pending?: SentCommand;
}

function command(method: string, path: string, body: unknown): SentCommand {
  return { key: randomUUID(), method, path, body };
}

/** One incident, start to finish; step 0 (registering the worker's unit) runs once. */
const CYCLE: Step[] = [
  // Each worker's incidents at places of their own, spread over the city's centre as a day's calls are.
  (w) => command('POST', '/api/incidents', { type: 'public_order', priority: 3, location: placeInCentre(w.index * 100_003 + w.step), address: `load worker ${w.index}` }),
  (w) => command('POST', `/api/incidents/${w.incidentId}/triage`, {}),
  (w) => command('POST', `/api/incidents/${w.incidentId}/assignments`, { unitId: w.unitId }),
  (w) => command('POST', `/api/incidents/${w.incidentId}/units/${w.unitId}/status`, { status: 'en_route' }),
  (w) => command('POST', `/api/incidents/${w.incidentId}/units/${w.unitId}/status`, { status: 'on_scene' }),
  (w) => command('POST', `/api/incidents/${w.incidentId}/notes`, { text: `note from worker ${w.index}` }),
  (w) => command('POST', `/api/incidents/${w.incidentId}/units/${w.unitId}/status`, { status: 'cleared' }),
  (w) => command('POST', `/api/incidents/${w.incidentId}/resolve`, { summary: 'done' }),
  (w) => command('POST', `/api/incidents/${w.incidentId}/close`, {}),
];

export class DispatchLoad {
  readonly acknowledged: Acknowledged[] = [];
  /** Every 5xx answer, and how it looked. */
  readonly unavailable: Refusal[] = [];
  /** Requests that got no HTTP answer at all (connection refused or reset). */
  noAnswer = 0;
  baseUrl: string;
  private readonly workers: WorkerState[];
  private runId = randomUUID().slice(0, 8);

  constructor(
    baseUrl: string,
    private readonly token: string,
    workers: number,
  ) {
    this.baseUrl = baseUrl;
    this.workers = Array.from({ length: workers }, (_, index) => ({ index, step: -1 }));
  }

  /** Every command sent, acknowledged or not, by key. */
  readonly sent = new Map<string, SentCommand>();

  get pending(): SentCommand[] {
    return this.workers.flatMap((w) => (w.pending ? [w.pending] : []));
  }

  /**
   * Runs until `signal` aborts. With `untilNoAnswer`, a worker stops at its first request the server never
   * answered (it died) and keeps that request pending; otherwise unanswered and 503 requests are retried, with
   * the same key, after `retryMs`.
   */
  async run(signal: AbortSignal, options: { untilNoAnswer?: boolean; retryMs?: number } = {}): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        while (!signal.aborted) {
          const sent = w.pending ?? this.next(w);
          w.pending = sent;
          const outcome = await this.send(w, sent);
          if (outcome === 'done') continue;
          if (options.untilNoAnswer && outcome === 'no-answer') return;
          await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 100));
        }
      }),
    );
  }

  /** Sends every pending request again until each is answered with a success (after a restart or an outage). */
  async drainPending(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await Promise.all(
      this.workers.map(async (w) => {
        while (w.pending) {
          if ((await this.send(w, w.pending)) === 'done') return;
          if (Date.now() > deadline) throw new Error(`request ${w.pending.method} ${w.pending.path} still unanswered after ${timeoutMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }),
    );
  }

  private next(w: WorkerState): SentCommand {
    let sent: SentCommand;
    if (w.step < 0) {
      sent = command('POST', '/api/units', {
        callSign: `LOAD-${this.runId}-${w.index}`,
        agency: 'police',
        type: 'patrol_car',
        homeStation: 'load test station',
        position: JIAN_CENTRE,
      });
    } else {
      sent = CYCLE[w.step % CYCLE.length]!(w);
    }
    this.sent.set(sent.key, sent);
    return sent;
  }

  private async send(w: WorkerState, sent: SentCommand): Promise<'done' | 'no-answer' | 'unavailable'> {
    const response = await callChild(this.baseUrl, sent.method, sent.path, {
      token: this.token,
      body: sent.body,
      headers: { 'idempotency-key': sent.key },
    });
    if (response.status === 0) {
      this.noAnswer += 1;
      return 'no-answer';
    }
    if (response.status >= 500) {
      this.unavailable.push({
        status: response.status,
        contentType: response.headers.get('content-type'),
        retryAfter: response.headers.get('retry-after'),
        body: response.body,
      });
      return 'unavailable';
    }
    if (response.status >= 300) {
      throw new Error(`${sent.method} ${sent.path} answered ${response.status}: ${JSON.stringify(response.body)}`);
    }
    this.acknowledged.push({ ...sent, status: response.status, commandId: response.body.commandId, id: response.body.id });
    if (w.step < 0) w.unitId = response.body.id;
    else if (w.step % CYCLE.length === 0) w.incidentId = response.body.id;
    w.step += 1;
    w.pending = undefined;
    return 'done';
  }
}
