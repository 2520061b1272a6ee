-- Issue 8: the MQTT ingest's inbox (api/ingest/inbox.ts). An alarm is acknowledged to the broker once it is a row
-- here, and stored from here; a row goes once its alarm is stored or refused. Not a projection: like the receipts,
-- it is the ingestion's own memory, never rebuilt from the log.
CREATE TABLE alarm_inbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  consumer text NOT NULL,              -- the MQTT session (client id) that took it from the broker: only it reads the row
  topic text NOT NULL,
  alarm jsonb NOT NULL,                -- the alarm as validated: {alarmId, sensorId, detectedAt?, reading?, message?}
  received_at timestamptz NOT NULL DEFAULT now(),
  tries integer NOT NULL DEFAULT 0,    -- failed tries, once given up
  last_error text,
  given_up_at timestamptz              -- kept failing in an unforeseen way: kept for an administrator, never tried again
);
CREATE INDEX alarm_inbox_waiting ON alarm_inbox (consumer, id) WHERE given_up_at IS NULL;
