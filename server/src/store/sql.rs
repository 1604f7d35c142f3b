//! The statements that store a response, shared by both writers: PostgreSQL's through sqlx
//! ([`super::postgres_writer`]) and SQLite's writer thread ([`super::sqlite_writer`]).
//! Parameters are `$N`, numbered in order of first use, which is also how SQLite numbers
//! them when they are bound by position. The insert of the response row itself is built
//! from the one list of its columns ([`super::columns`]).

/// Takes the next revision of a survey version (`$1`, `$2`); returns it.
pub(super) const NEXT_REVISION: &str = "INSERT INTO report_revisions (survey_id, survey_version, revision, rewrites) VALUES ($1, $2, 1, 0) \
     ON CONFLICT (survey_id, survey_version) DO UPDATE SET revision = report_revisions.revision + 1 RETURNING revision";
/// Locks a survey version's counter row (`$1`, `$2`) without moving it, making it if the
/// version has none (a row of zeros, the same as none).
pub(super) const LOCK_REVISION: &str = "INSERT INTO report_revisions (survey_id, survey_version, revision, rewrites) VALUES ($1, $2, 0, 0) \
     ON CONFLICT (survey_id, survey_version) DO UPDATE SET revision = report_revisions.revision";
/// The survey version of the response that answers an invitation (`$1`), if any.
pub(super) const INVITATION_ANSWER_VERSION: &str = "SELECT r.survey_id, r.survey_version FROM invitations i \
     JOIN responses r ON r.response_id = i.response_id WHERE i.invitation_id = $1";
/// Counts a change to rows of a survey version (`$1`, `$2`) that were already counted.
pub(super) const COUNT_REWRITE: &str = "INSERT INTO report_revisions (survey_id, survey_version, revision, rewrites) VALUES ($1, $2, 0, 1) \
     ON CONFLICT (survey_id, survey_version) DO UPDATE SET rewrites = report_revisions.rewrites + 1";
/// What ends every insert of response rows: a response whose id is stored already is left
/// as it is.
pub(super) const ON_STORED_RESPONSE: &str = " ON CONFLICT (response_id) DO NOTHING";
/// A stored response's body digest and score, by id.
pub(super) const STORED_DIGEST_AND_SCORE: &str =
    "SELECT body_sha256, score FROM responses WHERE response_id = $1";
/// Stores a response's sealed identity.
pub(super) const INSERT_IDENTITY: &str =
    "INSERT INTO respondent_identities (response_id, sealed) VALUES ($1, $2)";
/// Locks an invitation's row (on PostgreSQL) before it is read.
pub(super) const LOCK_INVITATION: &str =
    "UPDATE invitations SET response_id = response_id WHERE invitation_id = $1";
/// The invitation that replaced an invitation (`$1`), if a resend did.
pub(super) const INVITATION_REPLACED_BY: &str =
    "SELECT replaced_by FROM invitations WHERE invitation_id = $1";
/// The response currently answering an invitation (`$1`).
pub(super) const INVITATION_ANSWER: &str =
    "SELECT response_id FROM invitations WHERE invitation_id = $1";
/// Removes a response (its identity goes with it, by cascade); returns its survey version.
pub(super) const DELETE_RESPONSE: &str =
    "DELETE FROM responses WHERE response_id = $1 RETURNING survey_id, survey_version";
/// Where an earlier response (`$1`) stands among the verified answers of its account and
/// choice in its survey version, in the order reports read them: its `position` (from 1),
/// how many there are (`total`), and whether it is protected and verified (`protected`, 1)
/// or not (0), and its `survey_version`. With that version's batch size, this tells whether
/// it is in a published batch (`rapport_scoring::disclosure`).
pub(super) const EARLIER_ANSWER_PLACE: &str = "WITH earlier AS (SELECT survey_id, survey_version, account, confidentiality, arrival, revision, received_at, response_id FROM responses WHERE response_id = $1), \
     unit AS (SELECT r.revision, r.received_at, r.response_id FROM responses r, earlier e WHERE r.survey_id = e.survey_id AND r.survey_version = e.survey_version \
       AND (r.account = e.account OR (r.account IS NULL AND e.account IS NULL)) AND r.confidentiality = e.confidentiality AND r.arrival <> 'unverified') \
     SELECT (SELECT COUNT(*) FROM unit u, earlier e WHERE u.revision < e.revision OR (u.revision = e.revision AND (u.received_at < e.received_at \
       OR (u.received_at = e.received_at AND u.response_id <= e.response_id)))) AS position, \
     (SELECT COUNT(*) FROM unit) AS total, \
     (SELECT COUNT(*) FROM earlier WHERE confidentiality <> 'identified' AND arrival <> 'unverified') AS protected, \
     (SELECT survey_version FROM earlier) AS survey_version";
/// Records the response (`$1`) that answers an invitation (`$2`).
pub(super) const SET_INVITATION_ANSWER: &str =
    "UPDATE invitations SET response_id = $1 WHERE invitation_id = $2";
