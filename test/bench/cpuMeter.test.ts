import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CpuMeter, processCpuSeconds } from '../../bench/support.ts';
import { openTestDatabase } from '../support/db.ts';

// The bench's CPU accounting (bench/support.ts) is what its notes on command throughput rest on: work must be charged
// to the process that did it, and the machine's total must hold it. /proc counts in ticks of 10 ms, hence the slack.
const TICK_US = 10_000;

function burn(cpuMs: number): void {
  const start = process.cpuUsage();
  for (;;) {
    const used = process.cpuUsage(start);
    if (used.user + used.system >= cpuMs * 1000) return;
  }
}

describe('CpuMeter', () => {
  it('charges this process’s work to the clients, per operation, and to the machine', () => {
    const meter = new CpuMeter();
    burn(300);
    const cpu = meter.perOperation(3);
    expect(cpu.clients).toBeGreaterThanOrEqual(100_000);
    expect(cpu.clients).toBeLessThan(200_000);
    expect(cpu.machine).toBeGreaterThanOrEqual(cpu.clients - TICK_US);
    expect(cpu.server).toBeUndefined();
    expect(cpu.busy).toBeGreaterThan(0);
    expect(cpu.busy).toBeLessThanOrEqual(1.05);
  });

  it('charges a server process’s work to the server, not to the clients', async () => {
    // The child burns 300 ms of CPU, says so, and stays alive to be read.
    const child = spawn(process.execPath, ['-e', "const t=process.cpuUsage();while(process.cpuUsage(t).user<300000){}console.log('done');setTimeout(()=>{},30000)"], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const meter = new CpuMeter(child.pid!);
      await once(child.stdout!, 'data');
      const cpu = meter.perOperation(1);
      expect(cpu.server).toBeGreaterThanOrEqual(300_000 - TICK_US);
      expect(cpu.clients).toBeLessThan(cpu.server! / 2);
      expect(cpu.machine).toBeGreaterThanOrEqual(cpu.server! - TICK_US);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it.runIf(process.env.DATABASE_URL)('charges a PostgreSQL backend’s work to PostgreSQL', async () => {
    const db = await openTestDatabase({ kind: 'postgres' });
    const connection = await db.sql.reserve();
    try {
      const [row] = await connection<Array<{ pid: number }>>`select pg_backend_pid() as pid`;
      const pid = row!.pid;
      const backendBefore = processCpuSeconds(pid);
      const meter = new CpuMeter();
      await connection.unsafe('do $$ declare i int := 0; begin while i < 3000000 loop i := i + 1; end loop; end $$');
      const cpu = meter.perOperation(1);
      const backend = Math.round((processCpuSeconds(pid) - backendBefore) * 1e6);
      expect(backend).toBeGreaterThanOrEqual(50_000);
      expect(cpu.postgres).toBeGreaterThanOrEqual(backend - TICK_US);
      expect(cpu.machine).toBeGreaterThanOrEqual(cpu.postgres + cpu.clients - 2 * TICK_US);
    } finally {
      connection.release();
      await db.close();
    }
  });
});
