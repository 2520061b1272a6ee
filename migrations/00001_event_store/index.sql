-- The PostgreSQL event store. Concurrency is optimistic on streams.version; the global log is read in
-- (transaction_id, global_position) order, only below the oldest running transaction, so a reader never
-- passes an event whose transaction commits late (see eventstore/postgres.ts).

create table streams (
  stream_id text primary key,
  -- revision of the stream's last event (the first event has revision 0)
  version bigint not null
);

create table events (
  global_position bigserial primary key,
  event_id uuid not null unique,
  stream_id text not null,
  stream_revision bigint not null,
  type text not null,
  data jsonb not null,
  metadata jsonb not null,
  transaction_id xid8 not null default pg_current_xact_id(),
  recorded_at timestamptz not null default now(),
  unique (stream_id, stream_revision)
);

create index events_log_order on events (transaction_id, global_position);
