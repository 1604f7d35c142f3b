-- Each survey version counts its writes, so that a server can keep a version's report
-- columns in memory and read only what was written since (the report cache in store.rs).
--
-- revision: bumped by every transaction that adds responses to the version, before it
--   writes them; its rows carry the value. The bump locks the counter's row until commit
--   (on PostgreSQL; SQLite has one writer anyway), so revisions are given out in commit
--   order: once a reader sees revision R, every row with revision <= R is committed.
-- rewrites: bumped by every transaction that changes or removes rows already counted (an
--   invitation answered again, a respondent erased); a cache that sees it move reads the
--   version again, whole.
-- A version with no row here has revision 0 and rewrites 0.
CREATE TABLE report_revisions (
    survey_id TEXT NOT NULL,
    survey_version INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    rewrites INTEGER NOT NULL,
    PRIMARY KEY (survey_id, survey_version)
);

-- Rows stored before this migration keep revision 0 and their received order.
ALTER TABLE responses ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

-- The report read, now in (revision, received) order, and by revision range: it replaces
-- responses_for_reports of 0006, still covering everything those reads select.
CREATE INDEX responses_for_report_revisions ON responses
    (survey_id, survey_version, revision, received_at, response_id, report_entry, account, matter, wave, returning_respondent, respondent_key);
DROP INDEX responses_for_reports;
