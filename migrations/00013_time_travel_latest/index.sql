-- Issue 8: each stream's newest state moves out of time_travel_states into a table of its own, one row per stream,
-- updated in place as the stream moves on; time_travel_states keeps only closed intervals, which never change.
--
-- Why: "the city at T" is mostly streams that had ended by T (a closed incident keeps its last state for ever), and
-- those last states lay scattered over the whole history, about one row in fifteen. At a million events the answer
-- read 43,000 pages of an 800 MB table for 33,000 rows, more than PostgreSQL's buffers hold, so every query read
-- them again (1.1-1.3 s of the database's time on a slow afternoon). Kept together they are a 65 MB table read in
-- order, and the closed intervals that contain T are a few hundred rows found by the GiST index: 0.45-0.6 s on the
-- same data and machine, of which about 0.3 s is building the answer's JSON. Writing gets cheaper too: a new state
-- is one insert of a closed row and one update that changes no indexed column, where it was an insert and an update
-- that wrote three new index entries.
CREATE TABLE time_travel_latest (
  stream_id text PRIMARY KEY,
  revision bigint NOT NULL,            -- the stream's newest projected event
  entity text NOT NULL,                -- 'incident' | 'unit'
  entity_id text NOT NULL,
  valid_from timestamptz NOT NULL,     -- as in time_travel_states; the interval is open: current until the next event
  view jsonb
) WITH (fillfactor = 80);              -- room on each page for the updates to stay heap-only

INSERT INTO time_travel_latest (stream_id, revision, entity, entity_id, valid_from, view)
  SELECT stream_id, revision, entity, entity_id, valid_from, view FROM time_travel_states WHERE valid_to IS NULL;

-- The closed intervals are copied into a new table rather than the open ones deleted: deleted rows keep their
-- entries in the GiST index until a vacuum, and one in fifteen is too few for autovacuum to come by soon, so every
-- "city at T" would still visit their pages. Indexes are built once the rows are in: 25 s in all at a million rows
-- on a slow two-core afternoon.
ALTER TABLE time_travel_states RENAME TO time_travel_states_before_00013;
CREATE TABLE time_travel_states (
  stream_id text NOT NULL,
  revision bigint NOT NULL,
  entity text NOT NULL,                -- 'incident' | 'unit'
  entity_id text NOT NULL,
  valid_from timestamptz NOT NULL,     -- the running maximum of occurredAt along the stream
  valid_to timestamptz NOT NULL,       -- the next revision's valid_from
  during tstzrange GENERATED ALWAYS AS (tstzrange(valid_from, valid_to, '[)')) STORED,
  view jsonb
);
INSERT INTO time_travel_states (stream_id, revision, entity, entity_id, valid_from, valid_to, view)
  SELECT stream_id, revision, entity, entity_id, valid_from, valid_to, view FROM time_travel_states_before_00013
   WHERE valid_to IS NOT NULL ORDER BY valid_to, stream_id, revision;
DROP TABLE time_travel_states_before_00013;
ALTER TABLE time_travel_states ADD PRIMARY KEY (stream_id, revision);
CREATE INDEX time_travel_states_during ON time_travel_states USING gist (during);
CREATE INDEX time_travel_states_stream_time ON time_travel_states (stream_id, valid_from);

-- Every state of every stream with its interval (open for the newest), for whoever wants the model in one piece.
CREATE VIEW time_travel_all AS
  SELECT stream_id, revision, entity, entity_id, valid_from, valid_to, view FROM time_travel_states
  UNION ALL
  SELECT stream_id, revision, entity, entity_id, valid_from, NULL::timestamptz, view FROM time_travel_latest;
