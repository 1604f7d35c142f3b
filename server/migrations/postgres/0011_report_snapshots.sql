-- The PostgreSQL twin of migrations/sqlite/0011_report_snapshots.sql: each survey version's
-- report columns as one stored value, deleted by the transaction that changes or removes
-- rows already counted.
--
-- The values are stored uncompressed (STORAGE EXTERNAL): they are mostly small codes that
-- compress poorly, and a value read at every start is read fastest as it is.
CREATE TABLE report_snapshots (
    survey_id TEXT NOT NULL,
    survey_version BIGINT NOT NULL,
    revision BIGINT NOT NULL,
    rewrites BIGINT NOT NULL,
    columns BYTEA NOT NULL,
    response_ids BYTEA NOT NULL,
    PRIMARY KEY (survey_id, survey_version)
);
ALTER TABLE report_snapshots ALTER COLUMN columns SET STORAGE EXTERNAL;
ALTER TABLE report_snapshots ALTER COLUMN response_ids SET STORAGE EXTERNAL;

-- A plpgsql function runs each statement with a fresh snapshot, so this also deletes a
-- snapshot committed while the rewrite waited for the counter's row lock.
CREATE FUNCTION drop_outdated_report_snapshot() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM report_snapshots
        WHERE survey_id = NEW.survey_id AND survey_version = NEW.survey_version;
    RETURN NULL;
END
$$;

CREATE TRIGGER report_snapshots_outdated AFTER UPDATE OF rewrites ON report_revisions
    FOR EACH ROW WHEN (NEW.rewrites <> OLD.rewrites)
    EXECUTE FUNCTION drop_outdated_report_snapshot();
