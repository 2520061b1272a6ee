import { createUser } from '../../api/auth/users.ts';
import { currentSchemaVersion } from '../../domain/events.ts';
import { eventIdFor, newId } from '../../eventstore/eventIds.ts';
import { startProjector } from '../../projections/runner.ts';
import { quantile, type Figure, type Row } from '../harness.ts';
import { logOfAtLeast } from '../logFixture.ts';
import { callChild, loginChild, POSTGRES_URL, startChildServer } from '../support.ts';

const HISTORY_EVENTS = 1000;
/** How long the server may take to build the time-travel model from the whole log before city?at= is timed. */
const TIME_TRAVEL_LIMIT_MS = 20 * 60_000;

async function timed(times: number, fn: () => Promise<{ status: number }>): Promise<{ sorted: number[]; statuses: Set<number> }> {
  const sorted: number[] = [];
  const statuses = new Set<number>();
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    const response = await fn();
    sorted.push(performance.now() - t);
    statuses.add(response.status);
  }
  sorted.sort((a, b) => a - b);
  return { sorted, statuses };
}

/**
 * What an auditor waits for, over the large log (1M events by default, shared with the rebuild figure):
 * GET /api/incidents/:id/history of an incident with 1,000 events, and GET /api/city?at= (the city as it was),
 * each timed end to end over HTTP against the real server in its own process. The city-at route is probed
 * first and reported as not available where this build does not have it.
 */
export const auditQueries: Figure = {
  name: 'audit',
  async run({ quick, events }) {
    const kind = POSTGRES_URL ? 'postgres' : 'pglite';
    const size = events ?? (quick ? 200_000 : 1_000_000);
    const fixture = await logOfAtLeast(kind, kind === 'pglite' ? Math.min(size, 100_000) : size);
    const { store, db } = fixture;

    // One incident with 1,000 events: a report, then notes, appended 100 at a time.
    const incidentId = newId();
    const streamId = `incident-${incidentId}`;
    const meta = (commandId: string, type: string) => ({
      actor: 'bench', role: 'dispatcher', agency: 'police', commandId, $correlationId: incidentId, $causationId: commandId,
      occurredAt: new Date().toISOString(), schemaVersion: currentSchemaVersion(type), type,
    });
    const reportId = newId();
    let revision = (
      await store.append(
        streamId,
        [{ id: eventIdFor(reportId, streamId, 0), type: 'IncidentReported', metadata: meta(reportId, 'IncidentReported'),
          data: { incidentId, type: 'public_order', priority: 3, location: { lat: 27.11, lng: 114.99 }, address: 'audit bench', agencies: ['police'], source: 'hotline_12345' } }],
        'no_stream',
      )
    ).nextRevision;
    for (let written = 1; written < HISTORY_EVENTS; ) {
      const n = Math.min(100, HISTORY_EVENTS - written);
      const commandId = newId();
      revision = (
        await store.append(
          streamId,
          Array.from({ length: n }, (_, k) => ({ id: eventIdFor(commandId, streamId, k), type: 'IncidentNoteAdded', data: { text: `audit note ${written + k}` }, metadata: meta(commandId, 'IncidentNoteAdded') })),
          revision,
        )
      ).nextRevision;
      written += n;
    }
    const projector = startProjector({ store, sql: db.sql });
    await projector.ready;
    // Bounded: a projector that never takes over must fail this figure, not stall the whole bench.
    await projector.settle(120_000).finally(() => projector.stop());
    await createUser(db.sql, { username: 'bench.auditor', password: 'bench', role: 'auditor', agency: 'police' }, { ifExists: 'keep' });

    const rows: Row[] = [];
    if (kind === 'pglite') {
      // The embedded store lives in one process only; our in-memory PGlite cannot be handed to a server process.
      rows.push({ figure: 'audit queries', setup: 'embedded', value: Number.NaN, unit: '', notes: 'needs DATABASE_URL (the server runs in its own process)' });
      return rows;
    }
    const server = await startChildServer({ databaseUrl: db.url, demo: false });
    try {
      const token = await loginChild(server.baseUrl, 'bench.auditor', 'bench');
      const total = (await db.sql<{ n: string }[]>`select count(*)::text as n from events`)[0]!.n;
      const history = await timed(quick ? 10 : 30, () => callChild(server.baseUrl, 'GET', `/api/incidents/${incidentId}/history`, { token }));
      const check = await callChild(server.baseUrl, 'GET', `/api/incidents/${incidentId}/history`, { token });
      rows.push({
        figure: 'audit: incident history',
        setup: `postgres, ${HISTORY_EVENTS} events of ${Number(total).toLocaleString('en')}`,
        value: quantile(history.sorted, 0.5),
        unit: 'ms (median)',
        peakRssMiB: server.peakRssMiB(),
        notes: `p95 ${quantile(history.sorted, 0.95).toFixed(1)} ms; ${Array.isArray(check.body) ? check.body.length : '?'} entries; status ${[...history.statuses].join(',')}`,
      });

      // The server builds the time-travel model from scratch when it starts; city?at= answers from it, so it is
      // timed once that read model holds the whole log (and how long that took is a figure of its own).
      const building = performance.now();
      const last = (await db.sql<{ last: Date }[]>`select max(occurred_at) as last from event_log`)[0]!.last;
      for (;;) {
        const through = (await db.sql<{ through: Date | null }[]>`select max(valid_from) as through from time_travel_all`)[0]?.through;
        if (through && through.getTime() >= last.getTime()) break;
        if (performance.now() - building > TIME_TRAVEL_LIMIT_MS) throw new Error(`the time-travel model did not reach the end of the log within ${TIME_TRAVEL_LIMIT_MS / 1000} s`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      const buildSeconds = (performance.now() - building) / 1000;
      rows.push({
        figure: 'audit: time-travel read model built',
        setup: `postgres, ${Number(total).toLocaleString('en')} events, by the server at start`,
        value: Number(total) / buildSeconds,
        unit: 'events/s',
        peakRssMiB: server.peakRssMiB(),
        notes: `${buildSeconds.toFixed(1)} s from the server's start until the time-travel model reached the end of the log`,
      });

      // The middle of the log by position (the 1,000-event incident is written today, far after the synthetic
      // log's business times, so the middle of the time span would lie after every synthetic incident).
      const [span] = await db.sql<{ mid: Date }[]>`
        select occurred_at as mid from event_log where seq = (select max(seq) / 2 from event_log)`;
      const at = encodeURIComponent(span!.mid.toISOString());
      const probe = await callChild(server.baseUrl, 'GET', `/api/city?at=${at}`, { token });
      if (probe.status === 404 && /There is no GET/.test(String(probe.body?.detail ?? probe.body))) {
        rows.push({ figure: 'audit: city?at=', setup: `postgres, ${Number(total).toLocaleString('en')} events`, value: Number.NaN, unit: 'ms', notes: 'not available: GET /api/city is not in this build' });
      } else {
        // Until the last byte of the answer has arrived; parsing 18 MB of JSON is the client's time, not the server's.
        const city = await timed(quick ? 5 : 15, () => callChild(server.baseUrl, 'GET', `/api/city?at=${at}`, { token, raw: true }));
        const answer = await callChild(server.baseUrl, 'GET', `/api/city?at=${at}`, { token });
        const megabytes = JSON.stringify(answer.body ?? '').length / 1e6;
        rows.push({
          figure: 'audit: city?at=',
          setup: `postgres, ${Number(total).toLocaleString('en')} events, at the middle of the log`,
          value: quantile(city.sorted, 0.5),
          unit: 'ms (median)',
          peakRssMiB: server.peakRssMiB(),
          notes: `p95 ${quantile(city.sorted, 0.95).toFixed(1)} ms; ${answer.body?.incidents?.length ?? '?'} incidents and ${answer.body?.units?.length ?? '?'} units at that moment (${megabytes.toFixed(1)} MB); status ${[...city.statuses].join(',')}`,
        });
      }
    } finally {
      await server.stop();
    }
    return rows;
  },
};
