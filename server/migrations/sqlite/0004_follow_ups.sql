-- Close the loop: the follow-up status of each item on an account's list. An item is a
-- response that needs a conversation (kind 'response', subject its response id, wave '')
-- or, for confidential and anonymous feedback, only the account's flag for one wave (kind
-- 'account', subject the account). No row means the item is still open.
CREATE TABLE follow_ups (
    survey_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('response', 'account')),
    subject TEXT NOT NULL,
    wave TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'done')),
    note TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (survey_id, kind, subject, wave)
);
