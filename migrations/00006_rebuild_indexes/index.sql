-- Issue 8: a rebuild loads the read models without their secondary indexes and builds them once at the end
-- (several times faster than keeping them up to date row by row). The definitions it dropped wait here, written in
-- the same transaction as the drop, so a rebuild that dies midway leaves them for the next projector to rebuild.
CREATE TABLE rebuild_deferred_indexes (
  name text PRIMARY KEY,
  definition text NOT NULL
);
