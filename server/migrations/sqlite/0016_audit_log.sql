-- One audit log for every change to the programme: tokens, surveys, invitations and
-- webhooks were recorded in three tables and merged when read. 'action' starts with what
-- was changed ('token made', 'survey version saved', 'invitations made', 'webhook
-- created', ...), so a page shows its own part with a prefix; 'subject' names what it was
-- done to, never a token, a secret or a link; 'actor' is a token's label and role, or
-- "command line".
ALTER TABLE access_audit RENAME TO audit_log;

INSERT INTO audit_log (at, action, subject, actor)
SELECT at, action, subject, actor FROM invitation_audit ORDER BY id;

INSERT INTO audit_log (at, action, subject, actor)
SELECT at, 'webhook ' || action, 'webhook ' || webhook_id || ' to ' || url_host, actor
FROM webhook_audit ORDER BY id;

DROP TABLE invitation_audit;
DROP TABLE webhook_audit;

CREATE INDEX audit_log_at ON audit_log (at);
