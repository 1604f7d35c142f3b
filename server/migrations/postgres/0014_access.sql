-- When each API token was last used, to within a few minutes (a server writes it at most
-- once every five minutes per token), so the programme lead can see which tokens are
-- still in use before revoking one. NULL: never used since this column existed.
ALTER TABLE api_tokens ADD COLUMN last_used_at TEXT;

-- Who changed the programme from the dashboard or the command line, and when: the token's
-- label and role (or "command line"), never a token. 'action' says what was done ('token
-- made', 'token revoked', 'survey made', 'survey version saved'); 'subject' names what it
-- was done to (a token by its key, a prefix of its hash, with its role and label; a survey
-- by its id and version).
CREATE TABLE access_audit (
    id BIGSERIAL PRIMARY KEY,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    actor TEXT NOT NULL
);
