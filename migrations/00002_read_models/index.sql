-- Read models. Every table here is derived from the event log and can be dropped and rebuilt from it
-- (npm run projections:rebuild), except users and idempotency_keys, which are not projections.

-- Where each projector stands in the global log; written in the same transaction as the rows it produced.
CREATE TABLE projection_checkpoints (
  projection text PRIMARY KEY,
  position text NOT NULL,              -- the store's opaque LogPosition of the last applied event
  seq bigint NOT NULL,                 -- how many events this projector has applied (the live feed's position)
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per event of every stream, in log order: the auditor's index and the live feed's source.
CREATE TABLE event_log (
  seq bigint PRIMARY KEY,              -- 1, 2, 3… in global log order; the "position" clients see
  event_id uuid NOT NULL UNIQUE,
  stream_id text NOT NULL,
  stream_revision bigint NOT NULL,
  entity text NOT NULL,                -- 'incident' | 'unit'
  entity_id text NOT NULL,
  incident_id text,                    -- the incident this event concerns, for unit events too
  type text NOT NULL,
  data jsonb NOT NULL,
  actor text,
  role text,
  agency text,
  command_id text,
  correlation_id text,
  causation_id text,
  request_id text,
  reason text,
  occurred_at timestamptz NOT NULL,    -- business time (the command's)
  recorded_at timestamptz NOT NULL     -- the store's time
);
CREATE INDEX event_log_incident ON event_log (incident_id, seq);
CREATE INDEX event_log_entity ON event_log (entity, entity_id, seq);
CREATE INDEX event_log_occurred ON event_log (occurred_at);
CREATE INDEX event_log_actor ON event_log (actor, seq);

CREATE TABLE incident_board (
  id text PRIMARY KEY,
  status text NOT NULL,
  type text NOT NULL,
  priority smallint NOT NULL,
  lat double precision NOT NULL,
  lng double precision NOT NULL,
  address text,
  description text,
  source text NOT NULL,
  agencies text[] NOT NULL,
  units text[] NOT NULL DEFAULT '{}',   -- units currently assigned and not yet cleared
  all_units text[] NOT NULL DEFAULT '{}', -- every unit ever assigned
  notes_count integer NOT NULL DEFAULT 0,
  revision bigint NOT NULL,
  reported_at timestamptz NOT NULL,
  triaged_at timestamptz,
  first_dispatched_at timestamptz,
  first_en_route_at timestamptz,
  first_on_scene_at timestamptz,
  resolved_at timestamptz,
  closed_at timestamptz,
  cancelled_at timestamptz,
  updated_at timestamptz NOT NULL,      -- business time of the last event
  last_seq bigint NOT NULL
);
CREATE INDEX incident_board_status ON incident_board (status);
CREATE INDEX incident_board_updated ON incident_board (updated_at);
CREATE INDEX incident_board_reported ON incident_board (reported_at);
CREATE INDEX incident_board_agencies ON incident_board USING gin (agencies);

CREATE TABLE unit_board (
  id text PRIMARY KEY,
  call_sign text NOT NULL,
  agency text NOT NULL,
  unit_type text NOT NULL,
  home_station text NOT NULL,
  readiness text NOT NULL,              -- 'available' | 'out_of_service'
  status text NOT NULL,                 -- 'idle' | 'dispatched' | 'en_route' | 'on_scene' | 'transporting' | 'at_hospital'
  incident_id text,
  lat double precision,
  lng double precision,
  revision bigint NOT NULL,
  status_since timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  last_seq bigint NOT NULL
);
CREATE INDEX unit_board_agency ON unit_board (agency);

-- Not projections: accounts and remembered command responses.
CREATE TABLE users (
  id text PRIMARY KEY,
  username text NOT NULL UNIQUE,
  display_name text NOT NULL,
  password_hash text NOT NULL,
  role text NOT NULL,
  agency text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE idempotency_keys (
  key text NOT NULL,
  actor text NOT NULL,
  method text NOT NULL,
  path text NOT NULL,
  request_hash text NOT NULL,
  status_code integer NOT NULL,
  headers jsonb NOT NULL,
  body jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (actor, key)
);
