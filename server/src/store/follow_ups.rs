//! Follow-up statuses of the close-the-loop list: one per identified response that needs a
//! conversation, or per account and wave for the feedback given in confidence, recorded by
//! the people who follow up. Which items exist is decided by `crate::follow_up`, not here.

use anyhow::Context as _;
use serde::Serialize;

use super::{Store, now};

/// What a follow-up status is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FollowUpSubject {
    /// An identified response that needs a conversation, by response id.
    Response(String),
    /// An account's flag for the confidential and anonymous feedback of one wave (`""` for
    /// responses without a wave): who said what is never part of it.
    Account {
        /// The account.
        account: String,
        /// The wave.
        wave: String,
    },
}

/// How far the conversation about an item has got.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpStatus {
    /// Nobody has acted yet.
    #[default]
    Open,
    /// A conversation is planned or under way.
    InProgress,
    /// Followed up.
    Done,
}

impl FollowUpStatus {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            FollowUpStatus::Open => "open",
            FollowUpStatus::InProgress => "in_progress",
            FollowUpStatus::Done => "done",
        }
    }

    /// The status with this name.
    pub fn parse(name: &str) -> Option<Self> {
        [
            FollowUpStatus::Open,
            FollowUpStatus::InProgress,
            FollowUpStatus::Done,
        ]
        .into_iter()
        .find(|status| status.as_str() == name)
    }
}

/// A recorded follow-up status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpRow {
    /// What it is about.
    pub subject: FollowUpSubject,
    /// The status.
    pub status: FollowUpStatus,
    /// What the person who followed up wrote.
    pub note: Option<String>,
    /// When it was last changed.
    pub updated_at: String,
}

/// A follow-up status as stored: its subject as a kind, a key and a wave.
#[derive(Debug, Clone, sqlx::FromRow)]
struct StoredFollowUp {
    kind: String,
    subject: String,
    wave: String,
    status: String,
    note: Option<String>,
    updated_at: String,
}

impl TryFrom<StoredFollowUp> for FollowUpRow {
    type Error = anyhow::Error;

    fn try_from(stored: StoredFollowUp) -> anyhow::Result<Self> {
        let subject = match stored.kind.as_str() {
            "response" => FollowUpSubject::Response(stored.subject),
            "account" => FollowUpSubject::Account {
                account: stored.subject,
                wave: stored.wave,
            },
            other => anyhow::bail!("stored follow-up has an unknown kind {other:?}"),
        };
        let status = FollowUpStatus::parse(&stored.status).with_context(|| {
            format!("stored follow-up has an unknown status {:?}", stored.status)
        })?;
        Ok(FollowUpRow {
            subject,
            status,
            note: stored.note,
            updated_at: stored.updated_at,
        })
    }
}

impl Store {
    /// Every follow-up status recorded for a survey.
    pub async fn follow_ups(&self, survey_id: &str) -> anyhow::Result<Vec<FollowUpRow>> {
        let rows: Vec<StoredFollowUp> = on_pool!(&self.pool, |pool| {
            sqlx::query_as("SELECT kind, subject, wave, status, note, updated_at FROM follow_ups WHERE survey_id = $1").bind(survey_id).fetch_all(pool).await?
        });
        rows.into_iter().map(FollowUpRow::try_from).collect()
    }

    /// Records the follow-up status of one item, replacing what was recorded before.
    pub async fn set_follow_up(
        &self,
        survey_id: &str,
        subject: &FollowUpSubject,
        status: FollowUpStatus,
        note: Option<&str>,
    ) -> anyhow::Result<String> {
        let (kind, key, wave) = match subject {
            FollowUpSubject::Response(response_id) => ("response", response_id.as_str(), ""),
            FollowUpSubject::Account { account, wave } => {
                ("account", account.as_str(), wave.as_str())
            }
        };
        let updated_at = now().to_string();
        on_pool!(&self.pool, |pool| {
            sqlx::query(
                "INSERT INTO follow_ups (survey_id, kind, subject, wave, status, note, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (survey_id, kind, subject, wave) DO UPDATE SET status = excluded.status, note = excluded.note, updated_at = excluded.updated_at",
            )
            .bind(survey_id)
            .bind(kind)
            .bind(key)
            .bind(wave)
            .bind(status.as_str())
            .bind(note)
            .bind(&updated_at)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(updated_at)
    }
}
