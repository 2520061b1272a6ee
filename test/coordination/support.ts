import { expect } from 'vitest';
import type { TestServer } from '../support/server.ts';

/**
 * The incident as GET /api/incidents/:id shows it once the board has caught up with its stream: settles the
 * projector, then waits until the row's revision is the stream's (the read model is a moment behind by design).
 */
export async function caughtUp(server: TestServer, id: string, username = 'auditor'): Promise<any> {
  await server.settle();
  const stream = await server.store.readStream(`incident-${id}`);
  const revision = Number(stream.at(-1)!.revision);
  const token = await server.login(username);
  let body: any;
  await expect
    .poll(
      async () => {
        const r = await server.call('GET', `/api/incidents/${id}`, { token });
        body = r.body;
        return r.status === 200 ? Number(r.body.revision) : -1;
      },
      { timeout: 20_000, interval: 50 },
    )
    .toBe(revision);
  return body;
}

/** Waits until the board holds every event of these incidents' streams. */
export async function boardsCaughtUp(server: TestServer, ...ids: string[]): Promise<void> {
  for (const id of ids) await caughtUp(server, id);
}
