-- Issue 8: the likely-duplicates check of a new report (api/decision/duplicateQueries.ts) wants open incidents near
-- the place. The index of 00009 held every incident ever reported, so a busy spot (a junction, a market) read all its
-- closed incidents too, more every day: in the commands bench, where every report is at one place, 700 of 750 rows
-- read were closed ones. Only open incidents are indexed now; the query names the same statuses, so the planner can
-- use it. A rebuild drops and rebuilds it with the others.
-- A rebuild that died before this migration may have dropped the old index and left its definition to be rebuilt:
-- neither may come back.
DROP INDEX IF EXISTS incident_board_place;
DELETE FROM rebuild_deferred_indexes WHERE name = 'incident_board_place';
CREATE INDEX incident_board_open_place ON incident_board (lat, lng)
  WHERE status IN ('reported', 'triaged', 'dispatched', 'on_scene');
