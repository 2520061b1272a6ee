-- Issue 8: the likely-duplicates check of every new report looks for open incidents within a few hundred metres
-- (api/decision/duplicateQueries.ts). Without an index on the place it read every incident reported in the last
-- half hour anywhere in the city (about 3,000 rows a report in the live bench); with one it reads the rows in a
-- narrow band of latitude and keeps those in the band of longitude. A rebuild drops and rebuilds it with the others.
CREATE INDEX incident_board_place ON incident_board (lat, lng);
