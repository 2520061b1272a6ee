// The HTTP floor of the commands figure: the same Fastify and postgres.js as the product, with a pool as large, and a
// route that does the least a command could: parse and validate a small JSON body, INSERT one row, answer 201. No
// authentication, idempotency, domain, projection or live feed. What it reaches on the machine is as close to the
// raw INSERT rate as any HTTP command can come here; `bench/figures/commandThroughput.ts` starts it as its own
// process (as it starts the real server) and drives it with the same clients.
// Run: DATABASE_URL=… node --max-semi-space-size=64 --import tsx bench/floorServer.ts   (prints the address it listens on)
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import postgres from 'postgres';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('the floor server needs DATABASE_URL');
const sql = postgres(url, { max: Number(process.env.DATABASE_POOL_MAX ?? 10), onnotice: () => {} });
await sql`create table if not exists bench_floor (id uuid primary key, payload jsonb not null, recorded_at timestamptz not null default now())`;

const app = Fastify({ logger: false });
app.post(
  '/floor',
  {
    schema: {
      body: {
        type: 'object',
        required: ['type', 'priority', 'location'],
        properties: {
          type: { type: 'string', maxLength: 40 },
          priority: { type: 'integer', minimum: 1, maximum: 5 },
          location: { type: 'object', required: ['lat', 'lng'], properties: { lat: { type: 'number' }, lng: { type: 'number' } } },
          address: { type: 'string', maxLength: 200 },
        },
      },
      response: { 201: { type: 'object', properties: { id: { type: 'string' } } } },
    },
  },
  async (request, reply) => {
    const id = randomUUID();
    await sql`insert into bench_floor (id, payload) values (${id}, ${sql.json(request.body as postgres.JSONValue)})`;
    return reply.code(201).send({ id });
  },
);
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`the floor server is running at ${address}\n`);
const stop = async () => {
  await app.close();
  await sql.end({ timeout: 2 });
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
