-- Issue 6: multi-agency legs, lead agency, mutual aid, merged duplicates, overdue alerts and enforcement cases,
-- folded by domain/incident/coordination.ts into one JSON value per incident. Derived from the log like the rest
-- of incident_board: rows written before this migration get theirs on the next rebuild (npm run projections:rebuild).
ALTER TABLE incident_board ADD COLUMN coordination jsonb;

-- The enforcement queue reads open cases by due date; the map and the alert list read incidents with overdue items.
CREATE INDEX incident_board_enforcement_due ON incident_board (((coordination -> 'enforcement' ->> 'dueAt'))) WHERE coordination ? 'enforcement';
CREATE INDEX incident_board_merged_into ON incident_board (((coordination ->> 'mergedInto'))) WHERE coordination ? 'mergedInto';
