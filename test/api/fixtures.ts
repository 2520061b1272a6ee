import { expect } from 'vitest';
import { primaryUnitType, type Agency } from '../../domain/index.ts';
import type { RecordedEvent } from '../../eventstore/port.ts';
import type { ApiResponse, TestServer } from '../support/server.ts';

export const JIAN = { lat: 27.1138, lng: 114.9865 };


let callSigns = 0;

/** Registers a unit through the API as admin; returns its id. */
export async function registerUnit(server: TestServer, agency: Agency, callSign = `${agency.slice(0, 2).toUpperCase()}-${++callSigns}`): Promise<string> {
  const admin = await server.login('admin');
  const response = await server.call('POST', '/api/units', {
    token: admin,
    body: { callSign, agency, type: primaryUnitType(agency), homeStation: `${agency} station 1`, position: JIAN },
  });
  expectStatus(response, 201);
  return response.body.id as string;
}

/** Reports an incident as `username`; returns its id. */
export async function reportIncident(server: TestServer, username: string, body: Record<string, unknown> = {}): Promise<string> {
  const token = await server.login(username);
  const response = await server.call('POST', '/api/incidents', {
    token,
    body: { type: 'traffic_accident', priority: 3, location: JIAN, address: '吉州区 井冈山大道 1号', ...body },
  });
  expectStatus(response, 201);
  return response.body.id as string;
}

/** POSTs a command and insists on the status, showing the problem body when it differs. */
export async function command(server: TestServer, username: string, path: string, body: unknown = {}, status = 200): Promise<ApiResponse> {
  const token = await server.login(username);
  const response = await server.call('POST', path, { token, body });
  expectStatus(response, status);
  return response;
}

export function expectStatus(response: ApiResponse, status: number): void {
  if (response.status !== status) {
    expect.fail(`expected ${status}, got ${response.status}: ${typeof response.body === 'string' ? response.body : JSON.stringify(response.body)}`);
  }
}

export function expectProblem(response: ApiResponse, status: number): void {
  expectStatus(response, status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
  expect(response.body.detail.length).toBeGreaterThan(10);
}

/**
 * Every event in the store. readAll only returns events below the oldest running transaction (so subscribers
 * never skip a late commit), which hides fresh events while the projector is committing: settle first.
 */
export async function allEvents(server: TestServer): Promise<RecordedEvent[]> {
  await server.settle();
  return server.store.readAll();
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
