-- When each API token was last used, to within a few minutes (a server writes it at most
-- once every five minutes per token), so the programme lead can see which tokens are
-- still in use before revoking one. NULL: never used since this column existed.
ALTER TABLE api_tokens ADD COLUMN last_used_at TEXT;

-- Who gave or revoked access, and when: the token's label and role (or "command line"),
-- never a token. 'subject' names the token by its key (a prefix of its hash), its role and
-- its holder's label.
CREATE TABLE access_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('token made', 'token revoked')),
    subject TEXT NOT NULL,
    actor TEXT NOT NULL
);
