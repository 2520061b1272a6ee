// npm run audit:verify — recomputes the audit trail's hashes and reports the first broken one (exit 1 if any).
//
//   npm run audit:verify                                  the database of DATABASE_URL, or the embedded one in DATA_DIR
//   npm run audit:verify -- --checkpoints saved.json      also compare with checkpoints kept outside the database
//   npm run audit:verify -- --bundle incident.bundle.json check an exported bundle offline (no database)
//
// The signing key is AUDIT_SECRET, else derived from JWT_SECRET (or the demo secret in DATA_DIR), as the server does.
// The embedded database can only be opened by one process: stop the server first, or verify over HTTP
// (GET /api/audit/verify).
import { readFileSync } from 'node:fs';
import { auditKey } from '../api/audit/secret.ts';
import { verifyBundle } from '../api/audit/exports.ts';
import type { Checkpoint } from '../api/audit/checkpoints.ts';
import { verifyAll } from '../api/audit/verify.ts';
import { ConfigError, loadConfig } from '../api/config.ts';
import { connectStore, storeConfigFromEnv } from '../eventstore/connect.ts';

function argument(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  if (at < 0) return undefined;
  const value = process.argv[at + 1];
  if (value === undefined || value.startsWith('--')) {
    console.error(`${name} needs a file name.`);
    process.exit(2);
  }
  return value;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    console.error(`Cannot read ${file} as JSON: ${(error as Error).message}`);
    process.exit(2);
  }
}

async function main(): Promise<number> {
  let key: Buffer;
  try {
    const config = loadConfig();
    key = auditKey(config);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }

  const bundleFile = argument('--bundle');
  if (bundleFile) {
    const check = verifyBundle(readJson(bundleFile), key);
    if (check.ok) {
      console.log(`verified ✓ ${bundleFile}: signature valid, ${check.events} events intact.`);
      return 0;
    }
    if (!check.signatureValid) console.log(`broken ✗ ${bundleFile}: the signature does not match (changed, or signed with another key).`);
    if (check.firstBroken) {
      const b = check.firstBroken;
      console.log(`broken ✗ at event ${b.eventId} (${b.streamId} revision ${b.revision}): ${b.problem}.`);
    }
    return 1;
  }

  const checkpointsFile = argument('--checkpoints');
  let copy: Checkpoint[] | undefined;
  if (checkpointsFile) {
    const parsed = readJson(checkpointsFile) as { checkpoints?: Checkpoint[] } | Checkpoint[];
    copy = Array.isArray(parsed) ? parsed : (parsed.checkpoints ?? []);
  }
  const connected = await connectStore({ ...storeConfigFromEnv(), eventstoreUrl: undefined } as never);
  try {
    const report = await verifyAll(connected.sql as never, key, copy);
    console.log(`${report.ok ? 'verified ✓' : 'broken ✗'} ${report.summary}`);
    if (process.argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
    return report.ok ? 0 : 1;
  } finally {
    await connected.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
