-- The PostgreSQL twin of migrations/sqlite/0006_report_entries.sql.
-- What a report needs from each response, encoded at ingest (rapport_scoring::entry): the
-- 0-10 answer, ratings, confidentiality, topic bits and chosen options, a few bytes by
-- position in the survey version. Reports read these instead of parsing every response's
-- answers. Rows stored before this migration hold NULL until the server fills them in the
-- background; reports read their answers meanwhile.
ALTER TABLE responses ADD COLUMN report_entry BYTEA;

-- Reports and the close-the-loop list read, in received order, only the entry and the
-- context beside it. A row holds the answers, the score and more (about 1 KiB); this
-- covering index holds just what those reads select, so they can be answered by an
-- index-only scan. It replaces responses_by_received, whose columns are its key.
CREATE INDEX responses_for_reports ON responses (survey_id, survey_version, received_at, response_id)
    INCLUDE (report_entry, account, matter, wave, returning_respondent, respondent_key);
DROP INDEX responses_by_received;

-- Rows still without an entry, for the fill at start: empty once they are filled, so
-- finding that nothing is left costs nothing however large the table.
CREATE INDEX responses_without_entry ON responses (response_id) WHERE report_entry IS NULL;
