-- Webhooks, their delivery log, and how far responses were scanned for them.
-- Webhooks: where events about new identified responses are posted, signed with the
-- webhook's secret. A webhook sees responses received after it was created, never earlier
-- ones (created_at_millis).
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('json', 'slack')),
    -- The events it receives, as a JSON array of their names.
    events TEXT NOT NULL,
    -- Only this survey's responses; NULL for every survey.
    survey_id TEXT,
    -- The HMAC-SHA256 key of its signatures, 64 hex digits. It must be readable to sign,
    -- so it is kept like an outgoing credential; it opens nothing in Rapport.
    secret TEXT NOT NULL,
    label TEXT,
    created_at TEXT NOT NULL,
    created_at_millis INTEGER NOT NULL,
    -- Who created it: "command line", or a dashboard token's label and role.
    created_by TEXT NOT NULL
);

-- One event for one webhook, from its creation until it is delivered or given up: the
-- delivery log, and the queue the dispatcher works from. The body is fixed when the row is
-- written, so every attempt sends the same bytes.
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    -- Unique per webhook, so two replicas that scan the same responses write one row.
    event_id TEXT NOT NULL,
    event TEXT NOT NULL,
    survey_id TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    -- Milliseconds since the Unix epoch.
    next_attempt_at INTEGER NOT NULL,
    -- A replica that claimed the row sends it until lease_until (milliseconds); after that,
    -- if it crashed, another replica claims it again.
    lease_owner TEXT,
    lease_until INTEGER,
    last_http_status INTEGER,
    last_error TEXT,
    last_attempt_at TEXT,
    delivered_at TEXT,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);

-- How far the dispatcher has turned each survey version's responses into deliveries, as a
-- report revision (0007): every response up to it has been looked at. Revisions are given
-- out in commit order, so nothing committed is ever passed over. Versions already stored
-- start at their current revision: a webhook is about new responses.
CREATE TABLE webhook_scans (
    survey_id TEXT NOT NULL,
    survey_version INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    PRIMARY KEY (survey_id, survey_version)
);
INSERT INTO webhook_scans (survey_id, survey_version, revision)
    SELECT survey_id, survey_version, revision FROM report_revisions;

-- Who added or removed a webhook, and when: a token's label and role, or the command line;
-- never a token.
CREATE TABLE webhook_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('created', 'removed')),
    webhook_id TEXT NOT NULL,
    url_host TEXT NOT NULL,
    actor TEXT NOT NULL
);
