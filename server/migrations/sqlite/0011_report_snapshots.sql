-- Each survey version's report columns as one stored value, so that the first report after
-- a start reads that value and the rows committed since, not every row (store/reports.rs).
--
-- columns: the scoring crate's snapshot of the columns (ReportInput::to_snapshot);
-- response_ids: the rows' response ids, in the same order.
-- revision, rewrites: the version's counters (report_revisions) the columns were read at.
--   A snapshot is read only while the version's rewrites still equal its own, and then only
--   with the rows of a later revision.
--
-- A cache only: a server without it reads every row and gets the same columns. It holds
-- nothing the responses do not, and never outlives what it was read from: the trigger below
-- deletes a version's snapshot in the very transaction that changes or removes rows already
-- counted (an invitation answered again, a respondent erased), so an erased respondent's key
-- is gone from here when the erasure commits.
CREATE TABLE report_snapshots (
    survey_id TEXT NOT NULL,
    survey_version INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    rewrites INTEGER NOT NULL,
    columns BLOB NOT NULL,
    response_ids BLOB NOT NULL,
    PRIMARY KEY (survey_id, survey_version)
);

CREATE TRIGGER report_snapshots_outdated AFTER UPDATE OF rewrites ON report_revisions
    WHEN NEW.rewrites <> OLD.rewrites
BEGIN
    DELETE FROM report_snapshots
        WHERE survey_id = NEW.survey_id AND survey_version = NEW.survey_version;
END;
