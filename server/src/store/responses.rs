//! Storing a response: what a writer is given ([`NewResponse`]), what became of it
//! ([`InsertOutcome`]), and the insert of one response inside a writer's transaction,
//! written once for both backends over the statements of [`ResponseTransaction`].

use std::collections::BTreeMap;

use rapport_scoring::disclosure::Arrival;
use rapport_scoring::score::ResponseScore;
use rapport_scoring::wire::{ConfidentialityChoice, Context, Timestamp};
use tokio::sync::oneshot;

use super::columns::{ResponseRow, ScoredColumns};
use super::group_commit::PendingInsert;
use super::{Store, SurveyVersion};

/// A validated, scored response ready to be written.
#[derive(Debug, Clone)]
pub struct NewResponse {
    /// The idempotency key.
    pub response_id: String,
    /// Survey id.
    pub survey_id: String,
    /// Survey version.
    pub survey_version: u32,
    /// Keyed digest of the canonical body ([`crate::identity::IdentityKey::body_digest`]), to
    /// tell a resend from a conflicting reuse of the id. Never a plain hash: the body holds
    /// the identity.
    pub body_sha256: String,
    /// The same digest under older identity keys, so a resend of a response stored before a
    /// key rotation is still recognised.
    pub earlier_body_digests: Vec<String>,
    /// The answers and score as their columns store them.
    pub scored: ScoredColumns,
    /// Confidentiality choice.
    pub confidentiality: ConfidentialityChoice,
    /// Account, matter, wave.
    pub context: Context,
    /// Pseudonymous key following the respondent across waves.
    pub respondent_key: Option<String>,
    /// The report entry ([`rapport_scoring::entry`]) of the answers.
    pub report_entry: Vec<u8>,
    /// The widget's submit time.
    pub submitted_at: Timestamp,
    /// Identity sealed with the identity key; `None` for anonymous responses.
    pub sealed_identity: Option<Vec<u8>>,
    /// The invitation answered, whose earlier answers this response replaces.
    pub invitation_id: Option<String>,
    /// How it reached the server.
    pub arrival: Arrival,
    /// The locale the survey was shown in, as the widget sent it.
    pub locale: Option<String>,
    /// The minimum group size of every version of the survey, by version: the size of the
    /// batches in which protected answers to that version are published. Needed for an
    /// answer to an invitation, whose earlier answer, to whichever version, it may replace
    /// only while that answer waits for its batch; a version missing here counts every
    /// protected answer to it as published.
    pub batch_sizes: BTreeMap<u32, u32>,
}

/// What storing a response did.
#[derive(Debug, Clone, PartialEq)]
pub enum InsertOutcome {
    /// Stored now.
    Stored,
    /// Stored now, replacing the earlier answers to the same invitation.
    Replaced,
    /// The same response was stored before; here is the score stored then.
    Duplicate(ResponseScore),
    /// The id was used before for a different body.
    Conflict,
    /// Nothing stored: the invitation was answered before in confidence, and that answer is
    /// in a published batch, which must never change (see `rapport_scoring::disclosure`).
    PublishedBefore,
    /// Nothing stored: the invitation's link was replaced by a resend (checked under the
    /// invitation's lock, so a resend and an answer through the old link take turns).
    InvitationReplaced,
}

/// Where an earlier answer stands, as [`super::sql::EARLIER_ANSWER_PLACE`] returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub(super) struct AnswerPlace {
    /// Its position among the verified answers of its account and choice, from 1.
    pub(super) position: i64,
    /// How many of those there are.
    pub(super) total: i64,
    /// 1 if it is protected and verified, 0 if not.
    pub(super) protected: i64,
    /// The survey version it answered, whose minimum group size its batches have.
    pub(super) survey_version: i64,
}

impl AnswerPlace {
    /// Whether the answer stands in a published batch of its version, with the batch sizes
    /// of [`NewResponse::batch_sizes`].
    pub(super) fn published_in(&self, batch_sizes: &BTreeMap<u32, u32>) -> bool {
        let batch_size = u32::try_from(self.survey_version)
            .ok()
            .and_then(|version| batch_sizes.get(&version))
            .copied()
            .unwrap_or(1);
        self.in_published_batch(batch_size)
    }

    /// Whether the answer stands in a published batch: it is protected and verified, and its
    /// position is within the whole batches of `batch_size` that its account and choice have
    /// filled.
    fn in_published_batch(&self, batch_size: u32) -> bool {
        let batch_size = i64::from(batch_size.max(1));
        self.protected == 1
            && self.position >= 1
            && self.position <= self.total / batch_size * batch_size
    }
}

/// What is stored under a response id, as [`super::sql::STORED_DIGEST_AND_SCORE`] returns
/// it: enough to tell a resend from a conflict.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(super) struct StoredBody {
    /// The keyed digest of the stored body.
    pub(super) body_sha256: String,
    /// The stored score, as JSON.
    pub(super) score: String,
}

/// A writer's open transaction, as the insert of one response ([`insert`]) uses it: one
/// method a statement of [`super::sql`], each run by the backend's own driver. SQLite's
/// never wait (see [`super::sqlite_writer`]).
pub(super) trait ResponseTransaction {
    /// Locks an invitation's row before it is read, so that two writers answering the same
    /// invitation take turns; a backend whose transaction holds the one write lock does
    /// nothing.
    async fn lock_invitation(&mut self, invitation_id: &str) -> anyhow::Result<()>;
    /// The response that answers an invitation, if any.
    async fn invitation_answer(&mut self, invitation_id: &str) -> anyhow::Result<Option<String>>;
    /// Whether the invitation was replaced by a resend.
    async fn invitation_replaced(&mut self, invitation_id: &str) -> anyhow::Result<bool>;
    /// Where an earlier response stands among its account's and choice's answers.
    async fn answer_place(&mut self, response_id: &str) -> anyhow::Result<AnswerPlace>;
    /// Inserts a response row unless its id is stored already; returns whether it did.
    async fn insert_row(&mut self, row: &ResponseRow<'_>) -> anyhow::Result<bool>;
    /// The body digest and score stored under a response id.
    async fn stored_body(&mut self, response_id: &str) -> anyhow::Result<StoredBody>;
    /// Stores a response's sealed identity.
    async fn insert_identity(&mut self, response_id: &str, sealed: &[u8]) -> anyhow::Result<()>;
    /// Removes a response, if it is stored; returns its survey version.
    async fn delete_response(&mut self, response_id: &str)
    -> anyhow::Result<Option<SurveyVersion>>;
    /// Counts a change to rows of a survey version that were already counted.
    async fn count_rewrite(&mut self, version: &SurveyVersion) -> anyhow::Result<()>;
    /// Records the response that answers an invitation.
    async fn set_invitation_answer(
        &mut self,
        response_id: &str,
        invitation_id: &str,
    ) -> anyhow::Result<()>;
}

/// Writes one response in `transaction`, row by row, and tells what became of it: the row
/// and its sealed identity, or, if its id is stored already (by this batch, an earlier one
/// or another process), nothing. An invitation answered before has its earlier answers
/// replaced, unless they were published in confidence.
pub(super) async fn insert(
    transaction: &mut impl ResponseTransaction,
    row: ResponseRow<'_>,
) -> anyhow::Result<InsertOutcome> {
    let response = row.response;
    // One response per invitation: the new answers replace the earlier ones, in the same
    // transaction, so there is never a moment with both or neither, unless the earlier ones
    // were published in confidence. The first statement locks the invitation's row, so two
    // replicas answering the same invitation at once take turns instead of both keeping
    // their answers.
    let mut earlier = None;
    if let Some(invitation_id) = &response.invitation_id {
        transaction.lock_invitation(invitation_id).await?;
        if transaction.invitation_replaced(invitation_id).await? {
            return Ok(InsertOutcome::InvitationReplaced);
        }
        let answer = transaction.invitation_answer(invitation_id).await?;
        earlier = answer.filter(|earlier| *earlier != response.response_id);
        if let Some(earlier) = &earlier
            && transaction
                .answer_place(earlier)
                .await?
                .published_in(&response.batch_sizes)
        {
            return Ok(InsertOutcome::PublishedBefore);
        }
    }
    if !transaction.insert_row(&row).await? {
        // Stored before (by this batch, another request or another replica): a resend if the
        // body is the same, a conflict if not. Either way nothing is written.
        let stored = transaction.stored_body(&response.response_id).await?;
        return response.against_stored(&stored);
    }
    if let Some(sealed) = &response.sealed_identity {
        transaction
            .insert_identity(&response.response_id, sealed)
            .await?;
    }
    let Some(invitation_id) = &response.invitation_id else {
        return Ok(InsertOutcome::Stored);
    };
    let mut outcome = InsertOutcome::Stored;
    if let Some(earlier) = &earlier {
        if let Some(version) = transaction.delete_response(earlier).await? {
            transaction.count_rewrite(&version).await?;
        }
        outcome = InsertOutcome::Replaced;
    }
    transaction
        .set_invitation_answer(&response.response_id, invitation_id)
        .await?;
    Ok(outcome)
}

impl NewResponse {
    /// What this response is, given the body digest and score stored under its id: a
    /// resend of the stored response (the same body, under the current identity key or an
    /// earlier one), or a conflicting reuse of the id.
    fn against_stored(&self, stored: &StoredBody) -> anyhow::Result<InsertOutcome> {
        Ok(
            if stored.body_sha256 == self.body_sha256
                || self.earlier_body_digests.contains(&stored.body_sha256)
            {
                InsertOutcome::Duplicate(serde_json::from_str(&stored.score)?)
            } else {
                InsertOutcome::Conflict
            },
        )
    }
}

impl Store {
    /// Stores a response and its sealed identity, or recognises it. Returns once the
    /// transaction that holds it has committed (see [`super::group_commit`]).
    pub async fn insert_response(&self, response: NewResponse) -> anyhow::Result<InsertOutcome> {
        let (done, outcome) = oneshot::channel();
        self.writer
            .send(PendingInsert { response, done })
            .await
            .map_err(|_| anyhow::anyhow!("the database writer has stopped"))?;
        outcome
            .await
            .map_err(|_| anyhow::anyhow!("the database writer stopped before answering"))?
    }
}
