-- Invitations sent by email or shown in a portal. The contact is sealed like any identity
-- (the invitation id is the associated data); contact_key is the keyed hash that follows a
-- respondent across waves. response_id points at the current answers: one per invitation.
CREATE TABLE invitations (
    invitation_id TEXT PRIMARY KEY,
    survey_id TEXT NOT NULL,
    contact_key TEXT NOT NULL,
    sealed_contact BYTEA NOT NULL,
    account TEXT NOT NULL,
    matter TEXT,
    wave TEXT,
    expires_at BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    response_id TEXT REFERENCES responses (response_id) ON DELETE SET NULL
);
CREATE INDEX invitations_by_survey ON invitations (survey_id, wave);
