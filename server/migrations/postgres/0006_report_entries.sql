-- The PostgreSQL twin of migrations/sqlite/0006_report_entries.sql.
-- What a report needs from each response, encoded at ingest (rapport_scoring::entry): the
-- 0-10 answer, ratings, confidentiality, topic bits and chosen options, a few bytes by
-- position in the survey version. Reports read these instead of parsing every response's
-- answers. Rows stored before this migration hold NULL until the server fills them in the
-- background; reports read their answers meanwhile.
ALTER TABLE responses ADD COLUMN report_entry BYTEA;
