-- Dashboard sessions. Signing in with an API token makes a random session id; the cookie
-- holds only that id, and only its SHA-256 is stored here, beside the hash of the token it
-- stands for. Signing out deletes the row; so does revoking the token.
CREATE TABLE dashboard_sessions (
    session_sha256 TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL REFERENCES api_tokens (token_sha256) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX dashboard_sessions_by_expiry ON dashboard_sessions (expires_at);
