-- Each survey counts the changes to its invitations, so that a server can keep the
-- invitations completion rates are computed from in memory and read them again only when
-- the counter has moved (the invitation cache in store/invitations.rs).
--
-- The triggers count every change that completion can see: an invitation added, answered,
-- answered again, unlinked from an erased or deleted answer (the foreign key's SET NULL
-- runs as an update), or given a new contact key by an erasure. An update that changes
-- none of these (the writers' row lock) counts nothing. A survey with no row here has
-- revision 0.
CREATE TABLE invitation_revisions (
    survey_id TEXT PRIMARY KEY,
    revision INTEGER NOT NULL
);

CREATE TRIGGER invitations_added AFTER INSERT ON invitations BEGIN
    INSERT INTO invitation_revisions (survey_id, revision) VALUES (NEW.survey_id, 1)
        ON CONFLICT (survey_id) DO UPDATE SET revision = revision + 1;
END;

CREATE TRIGGER invitations_changed AFTER UPDATE ON invitations
    WHEN OLD.response_id IS NOT NEW.response_id
        OR OLD.contact_key IS NOT NEW.contact_key
        OR OLD.survey_id IS NOT NEW.survey_id
        OR OLD.account IS NOT NEW.account
        OR OLD.wave IS NOT NEW.wave
BEGIN
    INSERT INTO invitation_revisions (survey_id, revision) VALUES (NEW.survey_id, 1)
        ON CONFLICT (survey_id) DO UPDATE SET revision = revision + 1;
END;

CREATE TRIGGER invitations_removed AFTER DELETE ON invitations BEGIN
    INSERT INTO invitation_revisions (survey_id, revision) VALUES (OLD.survey_id, 1)
        ON CONFLICT (survey_id) DO UPDATE SET revision = revision + 1;
END;
