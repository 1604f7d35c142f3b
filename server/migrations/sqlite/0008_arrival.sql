-- How each response reached the server (rapport_scoring::disclosure::Arrival): through an
-- invitation, with a portal's signed context, or neither. Only verified responses (the first
-- two) let confidential and anonymous answers be published to account managers and
-- viewers, so nobody can lift a group over the minimum size with answers they made up.
-- Rows stored before this migration are verified exactly when an invitation points at them.
ALTER TABLE responses ADD COLUMN arrival TEXT NOT NULL DEFAULT 'unverified'
    CHECK (arrival IN ('invitation', 'signed_context', 'unverified'));
UPDATE responses SET arrival = 'invitation'
    WHERE response_id IN (SELECT response_id FROM invitations WHERE response_id IS NOT NULL);

-- The report read now selects the arrival too: it replaces responses_for_report_revisions
-- of 0007, still covering everything that read selects.
CREATE INDEX responses_for_release ON responses
    (survey_id, survey_version, revision, received_at, response_id, report_entry, account, matter, wave, returning_respondent, respondent_key, arrival);
DROP INDEX responses_for_report_revisions;
