-- Issue 8: the log's horizon (LOG_HORIZON in eventstore/postgres.ts) no longer waits for transactions of connections
-- labelled application_name = 'citybrain-read-models' (the projectors' transaction connections), so their batches
-- stop holding back the events that feed them. That is only safe while such a connection never appends an event;
-- the log refuses it here, once per statement, rather than trusting every caller.
CREATE FUNCTION events_refuse_read_model_writers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('application_name') = 'citybrain-read-models' THEN
    RAISE EXCEPTION 'a read-model writer''s connection must not append events: the log''s horizon does not wait for it'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER events_read_model_writers BEFORE INSERT ON events
  FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_read_model_writers();
