-- Alarm ingestion (issue 7). Not projections: the sensor registry is configuration, the receipts and used
-- signatures are the ingestion's own memory. None of them is rebuilt from the event log.

-- Which sensor stands where and what an alarm from it means.
CREATE TABLE sensors (
  id text PRIMARY KEY,
  kind text NOT NULL,                  -- smoke_alarm | fire_alarm | gas_detector | water_level | traffic_camera | construction_monitor
  incident_type text NOT NULL,         -- the incident an alarm from it opens (domain/catalog.ts)
  lat double precision NOT NULL,
  lng double precision NOT NULL,
  address text,
  source text,                         -- the webhook source allowed to speak for it; null = any configured source
  -- Alarms of one episode attach to one incident; when that incident is over, the next alarm starts a new episode.
  episode integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per alarm id ever accepted: ingestion is idempotent on it.
CREATE TABLE alarm_receipts (
  alarm_id text PRIMARY KEY,
  sensor_id text NOT NULL REFERENCES sensors (id),
  incident_id text NOT NULL,
  outcome text NOT NULL,               -- 'opened' | 'attached'
  channel text NOT NULL,               -- 'webhook' | 'mqtt'
  source text,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alarm_receipts_sensor ON alarm_receipts (sensor_id, received_at);
CREATE INDEX alarm_receipts_incident ON alarm_receipts (incident_id);

-- Signatures of webhook requests already accepted: a captured request sent again is refused.
CREATE TABLE ingest_signatures (
  signature text PRIMARY KEY,
  source text NOT NULL,
  signed_at timestamptz NOT NULL,
  seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ingest_signatures_seen ON ingest_signatures (seen_at);
