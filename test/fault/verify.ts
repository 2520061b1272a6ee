// What must hold after any fault: every acknowledged command is in the log, none is in it twice, and the read
// models the recovered server built equal a rebuild from the log. Run against the store with the server stopped.
import { expect } from 'vitest';
import { connectStore, type StoreConfig } from '../../eventstore/connect.ts';
import { startProjector } from '../../projections/runner.ts';
import { rebuildReadModels } from '../../projections/rebuild.ts';
import { dumpReadModels } from '../projections/support.ts';
import type { Acknowledged } from './load.ts';

export async function expectNothingLostNothingTwice(config: StoreConfig, acknowledged: Acknowledged[]): Promise<void> {
  const connected = await connectStore(config);
  try {
    const { sql } = connected;
    const rows = await sql<{ cid: string | null; stream: string; type: string; n: number }[]>`
      select metadata->>'commandId' as cid, stream_id as stream, type, count(*)::int as n
        from events group by 1, 2, 3`;
    const byCommand = new Map<string, number>();
    for (const row of rows) if (row.cid) byCommand.set(row.cid, (byCommand.get(row.cid) ?? 0) + row.n);

    // Every 2xx the clients saw is a fact in the log.
    const missing = acknowledged.filter((a) => !byCommand.has(a.commandId));
    expect(missing, 'acknowledged commands missing from the log').toEqual([]);

    // No command applied twice: a command writes each event type at most once per stream, and one key is one command.
    const twice = rows.filter((r) => r.n > 1);
    expect(twice, 'events written twice by one command').toEqual([]);
    const keysPerCommand = new Map<string, Set<string>>();
    for (const a of acknowledged) keysPerCommand.set(a.commandId, (keysPerCommand.get(a.commandId) ?? new Set()).add(a.key));
    expect([...keysPerCommand.values()].every((keys) => keys.size === 1)).toBe(true);
    const reports = acknowledged.filter((a) => a.path === '/api/incidents');
    // A resend under a new key would be a second command: the log must hold exactly one incident per report sent.
    const [reported] = await sql<{ n: number; acknowledged: number }[]>`
      select count(*)::int as n,
             count(*) filter (where metadata->>'commandId' = any(${reports.map((r) => r.commandId)}::text[]))::int as acknowledged
        from events where type = 'IncidentReported' and data->>'address' like 'load worker %'`;
    expect(reported!.acknowledged).toBe(new Set(reports.map((r) => r.commandId)).size);
    expect(reported!.n).toBe(reports.length);

    // The read models the recovered server kept up equal a fresh rebuild of the same log.
    const projector = startProjector({ store: connected.store, sql, retryDelayMs: 100 });
    await projector.ready;
    await projector.settle(120_000);
    await projector.stop();
    const [counts] = await sql<{ events: number; logged: number }[]>`
      select (select count(*)::int from events) as events, (select count(*)::int from event_log) as logged`;
    expect(counts!.logged).toBe(counts!.events);
    const live = await dumpReadModels(sql);
    await rebuildReadModels({ store: connected.store, sql, batchSize: 1000 });
    const rebuilt = await dumpReadModels(sql);
    expect(live.event_log.length).toBe(rebuilt.event_log.length);
    expect(live).toEqual(rebuilt);
  } finally {
    await connected.close();
  }
}
