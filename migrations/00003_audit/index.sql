-- Audit: a hash chain per stream on the event store, signed checkpoints over the global log, the audit log of
-- what is not an event (log-ins, refusals, auditors' reads), per-incident keys for personal data, and the
-- per-revision states that make time travel an index lookup. See api/audit/ and eventstore/hashChain.ts.

-- content_hash: SHA-256 of the event's canonical JSON (computed by the adapter, eventstore/hashChain.ts).
-- hash: SHA-256(prev_hash || revision as 8 bytes big-endian || content_hash), chained along the stream.
alter table events add column content_hash bytea;
alter table events add column prev_hash bytea;
alter table events add column hash bytea;

-- The chain is computed here, inside the appending transaction: the previous event of the stream is
-- already committed or written by this very statement (the stream row lock orders appends), and a volatile
-- function reads with a fresh snapshot, so it sees a writer it waited for.
create function events_chain_hash() returns trigger language plpgsql volatile as $$
declare
  previous bytea;
begin
  if new.content_hash is null then
    return new;
  end if;
  if new.stream_revision = 0 then
    previous := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
  else
    select e.hash into previous from events e where e.stream_id = new.stream_id and e.stream_revision = new.stream_revision - 1;
    if previous is null then
      previous := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
    end if;
  end if;
  new.prev_hash := previous;
  new.hash := sha256(previous || int8send(new.stream_revision) || new.content_hash);
  return new;
end;
$$;

create trigger events_chain_hash before insert on events for each row execute function events_chain_hash();

-- A running chain over the global log, in log order: chain = SHA-256(previous chain || event hash).
-- Each row is signed (HMAC-SHA-256 with the audit secret); export them and keep them outside the database.
create table audit_checkpoints (
  seq bigint primary key,
  txid xid8 not null,                  -- the log position of the last event covered
  gpos bigint not null,
  event_count bigint not null,         -- events covered since the start of the log
  chain text not null,                 -- hex
  created_at timestamptz not null default now(),
  signature text not null
);

-- What is not an event but must be kept: log-ins and failed log-ins, refused commands, auditors' reads,
-- checkpoints and erasures. Append-only and hash-chained like the streams.
create table audit_log (
  seq bigint primary key,
  at timestamptz not null default now(),
  kind text not null,                  -- login | login_failed | command_refused | audit_read | erasure | checkpoint
  actor text,
  username text,
  role text,
  agency text,
  request_id text,
  client_address text,
  method text,
  path text,
  status integer,
  detail text,
  data jsonb not null default '{}',
  prev_hash text not null,
  hash text not null
);
create index audit_log_kind on audit_log (kind, seq);
create index audit_log_actor on audit_log (actor, seq);

create function audit_log_is_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'the audit log is append-only: % is not allowed', tg_op;
end;
$$;
create trigger audit_log_append_only before update or delete on audit_log
  for each row execute function audit_log_is_append_only();

-- One key per incident for its personal data (reporter name and phone). Erasure destroys the key and keeps
-- the row as the record of who erased it, when and why.
create table personal_data_keys (
  incident_id text primary key,
  key bytea,
  created_at timestamptz not null default now(),
  erased_at timestamptz,
  erased_by text,
  erasure_reason text
);

-- Every aggregate's state after each of its events, valid from that event's business time until the next
-- one's: "the city at T" is one GiST lookup, and "incident X at T" a lookup plus at most the events not yet
-- projected. Derived from the log (its checkpoint is projection_checkpoints 'time_travel').
create table time_travel_states (
  stream_id text not null,
  revision bigint not null,
  entity text not null,                -- 'incident' | 'unit'
  entity_id text not null,
  valid_from timestamptz not null,     -- the running maximum of occurredAt along the stream
  valid_to timestamptz,                -- the next revision's valid_from; null while it is the latest
  during tstzrange generated always as (tstzrange(valid_from, valid_to, '[)')) stored,
  view jsonb,
  primary key (stream_id, revision)
);
create index time_travel_states_during on time_travel_states using gist (during);
create index time_travel_states_stream_time on time_travel_states (stream_id, valid_from);
