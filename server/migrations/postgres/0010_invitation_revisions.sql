-- The PostgreSQL twin of migrations/sqlite/0010_invitation_revisions.sql.
-- Each survey counts the changes to its invitations, so that a server can keep the
-- invitations completion rates are computed from in memory and read them again only when
-- the counter has moved (the invitation cache in store/invitations.rs).
--
-- The trigger counts every change that completion can see: an invitation added, answered,
-- answered again, unlinked from an erased or deleted answer (the foreign key's SET NULL
-- runs as an update), or given a new contact key by an erasure. An update that changes
-- none of these (the writers' row lock) counts nothing. A survey with no row here has
-- revision 0.
CREATE TABLE invitation_revisions (
    survey_id TEXT PRIMARY KEY,
    revision BIGINT NOT NULL
);

CREATE FUNCTION count_invitation_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed_survey TEXT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        changed_survey := OLD.survey_id;
    ELSIF TG_OP = 'UPDATE' AND (OLD.response_id IS NOT DISTINCT FROM NEW.response_id
            AND OLD.contact_key IS NOT DISTINCT FROM NEW.contact_key
            AND OLD.survey_id IS NOT DISTINCT FROM NEW.survey_id
            AND OLD.account IS NOT DISTINCT FROM NEW.account
            AND OLD.wave IS NOT DISTINCT FROM NEW.wave) THEN
        RETURN NULL;
    ELSE
        changed_survey := NEW.survey_id;
    END IF;
    INSERT INTO invitation_revisions (survey_id, revision) VALUES (changed_survey, 1)
        ON CONFLICT (survey_id) DO UPDATE SET revision = invitation_revisions.revision + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER invitations_changed AFTER INSERT OR UPDATE OR DELETE ON invitations
    FOR EACH ROW EXECUTE FUNCTION count_invitation_change();
