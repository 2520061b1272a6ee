import { existsSync } from 'node:fs';
import { replayCalls } from '../../scripts/replay/run.ts';
import { readSfCalls, SF_CALLS_FILE } from '../../scripts/replay/sfCalls.ts';
import { startTestServer, TEST_PASSWORD } from '../../test/support/server.ts';
import { withPeakRss, type Figure, type Row } from '../harness.ts';

const SF_FILE = SF_CALLS_FILE;

/**
 * The SF dataset replayed at full speed through the HTTP import route into a fresh server (projector running):
 * the whole 14-day file, or its first 500 calls with --quick. Reports the command and event rates, the time
 * until the dashboard holds everything, and whether its KPIs equal those computed from the file.
 */
export const sfReplay: Figure = {
  name: 'sf-replay',
  async run({ quick }) {
    if (!existsSync(SF_FILE)) throw new Error(`the SF dataset is missing: ${SF_FILE}`);
    const calls = readSfCalls(SF_FILE, quick ? { limit: 500 } : {});
    const server = await startTestServer();
    try {
      const started = performance.now();
      const measured = await withPeakRss(() => replayCalls({ url: server.baseUrl, calls, speed: 'max', username: 'admin', password: TEST_PASSWORD, settleTimeoutMs: 600_000 }));
      const total = (performance.now() - started) / 1000;
      const result = measured.result;
      await server.settle();
      const [row] = await server.sql<{ n: number }[]>`select count(*)::int as n from event_log`;
      const events = row?.n ?? 0;
      const setup = `${server.kind}, ${calls.length} calls, ${result.units} units`;
      const notes = `${result.errors.length} errors; KPIs ${result.mismatches.length === 0 ? 'equal the file' : `differ: ${result.mismatches.join('; ')}`}`;
      const rows: Row[] = [
        { figure: 'SF replay: commands through POST /api/import/batch', setup, value: result.commands / result.seconds, unit: 'commands/s', peakRssMiB: measured.peakRssMiB, notes },
        { figure: 'SF replay: events written', setup, value: events / result.seconds, unit: 'events/s', notes: `${events} events in ${result.seconds.toFixed(1)} s` },
        { figure: 'SF replay: until the dashboard holds it all', setup, value: total, unit: 's', notes: `${result.commands} commands` },
      ];
      return rows;
    } finally {
      await server.close();
    }
  },
};
