// The guard around postgres.js 3.4.9's defects (api/postgresDriverGuard.ts): an unhandled rejection of the driver's
// own fetch of array types (nothing of ours awaits it) must not end the server; any other must still.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { isDriverTypeFetchFailure } from '../../api/postgresDriverGuard.ts';

/** The query text the installed driver sends from fetchArrayTypes, as its errors carry it. */
function driverTypeQuery(): string {
  const require = createRequire(import.meta.url);
  const source = readFileSync(require.resolve('postgres').replace(/cjs\/src\/index\.js$|src\/index\.js$/, 'src/connection.js'), 'utf8');
  const fetch = source.slice(source.indexOf('async function fetchArrayTypes'));
  return fetch.slice(fetch.indexOf('`') + 1, fetch.indexOf('`', fetch.indexOf('`') + 1));
}

function driverError(message: string, query: string): Error {
  // postgres.js adds the query as a property of its errors (queryError in src/connection.js).
  return Object.defineProperty(new Error(message), 'query', { value: query, enumerable: false });
}

describe('postgres.js driver guard', () => {
  it('recognises a failure of the driver fetching its array types on a lost connection', () => {
    expect(driverTypeQuery()).toMatch(/typarray/);
    expect(isDriverTypeFetchFailure(driverError('write CONNECTION_CLOSED 127.0.0.1:5432', driverTypeQuery()))).toBe(true);
  });

  it('does not excuse anything else', () => {
    expect(isDriverTypeFetchFailure(driverError('write CONNECTION_CLOSED 127.0.0.1:5432', 'select * from events'))).toBe(false);
    expect(isDriverTypeFetchFailure(new Error('terminating connection due to administrator command'))).toBe(false);
    expect(isDriverTypeFetchFailure(undefined)).toBe(false);
    expect(isDriverTypeFetchFailure('typarray')).toBe(false);
  });
});
