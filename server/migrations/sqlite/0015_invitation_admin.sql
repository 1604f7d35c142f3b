-- Invitations run from the dashboard.
--
-- opened_at: when the landing page first looked the invitation up in a browser (the page's
-- script asks GET /api/v1/invitations/{token}; a mail scanner that fetches the link runs no
-- script, so it opens nothing). NULL: never opened.
ALTER TABLE invitations ADD COLUMN opened_at TEXT;
-- replaced_by: the invitation whose new link replaced this one (a resend). Its link is then
-- refused, saying it was replaced. NULL: the link is current.
ALTER TABLE invitations ADD COLUMN replaced_by TEXT;
-- What a resend needs to speak to the contact as the first link did: the firm and the
-- language. NULL for invitations made before this column existed.
ALTER TABLE invitations ADD COLUMN firm TEXT;
ALTER TABLE invitations ADD COLUMN locale TEXT;

-- Who uploaded contacts or resent a link, and when: the token's label and role (or
-- "command line"), never a token or a link. 'subject' names the survey and how many
-- invitations, or the invitation replaced by its id; never a contact.
CREATE TABLE invitation_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('invitations made', 'invitation resent')),
    subject TEXT NOT NULL,
    actor TEXT NOT NULL
);
