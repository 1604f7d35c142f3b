-- The PostgreSQL twin of migrations/sqlite/0001_initial.sql: the same tables and columns,
-- in PostgreSQL's types (BIGINT for every integer, BYTEA for sealed identity).

-- Survey definitions, one row per version. A response names the version it answered.
CREATE TABLE surveys (
    id TEXT NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    definition TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (id, version)
);

-- Answers and scores. Nothing here identifies the respondent: identity lives in
-- respondent_identities, encrypted. No IP address is stored anywhere.
CREATE TABLE responses (
    response_id TEXT PRIMARY KEY,
    survey_id TEXT NOT NULL,
    survey_version BIGINT NOT NULL,
    body_sha256 TEXT NOT NULL,
    answers TEXT NOT NULL,
    confidentiality TEXT NOT NULL CHECK (confidentiality IN ('anonymous', 'confidential', 'identified')),
    account TEXT,
    matter TEXT,
    wave TEXT,
    returning_respondent BOOLEAN,
    respondent_key TEXT,
    score TEXT NOT NULL,
    nps BIGINT,
    crq DOUBLE PRECISION,
    submitted_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    FOREIGN KEY (survey_id, survey_version) REFERENCES surveys (id, version)
);
CREATE INDEX responses_by_survey ON responses (survey_id, survey_version);

-- Who answered, sealed with the identity key (XChaCha20-Poly1305, the response id as
-- associated data), so a row's ciphertext cannot be moved to another response.
CREATE TABLE respondent_identities (
    response_id TEXT PRIMARY KEY REFERENCES responses (response_id) ON DELETE CASCADE,
    sealed BYTEA NOT NULL
);
