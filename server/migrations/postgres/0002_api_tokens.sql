-- API tokens for the people who read results. Only a SHA-256 of each token is stored; the
-- token itself is shown once, when it is created.
CREATE TABLE api_tokens (
    token_sha256 TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('admin', 'account', 'viewer')),
    accounts TEXT NOT NULL,
    label TEXT,
    created_at TEXT NOT NULL
);
