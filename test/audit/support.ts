import { expect } from 'vitest';
import type { ApiResponse, TestServer } from '../support/server.ts';
import { JIAN } from '../api/fixtures.ts';

let counter = 0;

/** A request id of our own on every call, so each event can be traced back to the request that wrote it. */
export function requestId(label: string): string {
  return `audit-${label}-${++counter}-${Date.now()}`;
}

export async function send(
  server: TestServer,
  username: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse & { requestId: string }> {
  const id = requestId(path.split('/').slice(-1)[0] ?? 'x');
  const token = await server.login(username);
  const response = await server.call(method, path, { token, ...(body !== undefined && { body }), headers: { 'x-request-id': id, ...headers } });
  return { ...response, requestId: id };
}

export async function ok(server: TestServer, username: string, path: string, body: unknown = {}, status = 200) {
  const response = await send(server, username, 'POST', path, body);
  if (response.status !== status) expect.fail(`POST ${path} as ${username}: expected ${status}, got ${response.status} ${JSON.stringify(response.body)}`);
  return response;
}

export async function unit(server: TestServer, agency: string, callSign: string, type: string): Promise<string> {
  const r = await ok(server, 'admin', '/api/units', { callSign, agency, type, homeStation: `${agency} station`, position: JIAN }, 201);
  return r.body.id as string;
}

export async function incident(server: TestServer, username: string, body: Record<string, unknown> = {}): Promise<string> {
  const r = await ok(server, username, '/api/incidents', { type: 'traffic_accident', priority: 3, location: JIAN, ...body }, 201);
  return r.body.id as string;
}

/** Waits until the time-travel model (time_travel_all) holds a row for every incident and unit event in the store. */
export async function timeTravelSettled(server: TestServer, timeoutMs = 30_000): Promise<void> {
  await server.settle();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await server.sql<{ missing: string }[]>`
      select count(*)::text as missing from events e
       where (starts_with(e.stream_id, 'incident-') or starts_with(e.stream_id, 'unit-'))
         and not exists (select 1 from time_travel_all s where s.stream_id = e.stream_id and s.revision = e.stream_revision)`;
    if (Number(row!.missing) === 0) return;
    if (Date.now() > deadline) throw new Error(`the time-travel model is still missing ${row!.missing} events`);
    await sleep(50);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
