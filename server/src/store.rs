//! Storage: the only module that knows SQL.
//!
//! SQLite is opened in WAL mode with `synchronous = FULL`, so a commit has reached the disk
//! before the API acknowledges it. Each response is written in one transaction with its
//! sealed identity, so no partial row is ever visible. Migrations are embedded in the
//! binary and run at start.

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use rapport_scoring::definition::SurveyDefinition;
use rapport_scoring::score::ResponseScore;
use rapport_scoring::validate::Answers;
use rapport_scoring::wire::{ConfidentialityChoice, Context, Timestamp};
use rapport_scoring::{templates, ResponseRecord};
use serde::Serialize;

use crate::auth::{Caller, Role};
use crate::invitation::Invitation;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

/// The database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

/// A survey and its latest version, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SurveySummary {
    /// Survey id.
    pub id: String,
    /// Latest version.
    pub version: u32,
    /// English title.
    pub title: String,
    /// Responses stored for all versions.
    pub responses: u64,
}

/// What adding a survey definition did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddOutcome {
    /// The definition was stored as this version.
    Added {
        /// The version it was stored as.
        version: u32,
    },
    /// The latest stored version already has this content.
    Unchanged {
        /// That latest version.
        version: u32,
    },
}

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
    /// Typed answers.
    pub answers: Answers,
    /// Confidentiality choice.
    pub confidentiality: ConfidentialityChoice,
    /// Account, matter, wave.
    pub context: Context,
    /// Pseudonymous key following the respondent across waves.
    pub respondent_key: Option<String>,
    /// The server's score.
    pub score: ResponseScore,
    /// The widget's submit time.
    pub submitted_at: Timestamp,
    /// Identity sealed with the identity key; `None` for anonymous responses.
    pub sealed_identity: Option<Vec<u8>>,
    /// The invitation answered, whose earlier answers this response replaces.
    pub invitation_id: Option<String>,
}

/// One stored response as an export reads it. The identity is still sealed: only the
/// export decides, by role, whether to open it.
#[derive(Debug, Clone)]
pub struct ExportRow {
    /// Response id.
    pub response_id: String,
    /// The widget's submit time.
    pub submitted_at: String,
    /// `anonymous`, `confidential` or `identified`.
    pub confidentiality: String,
    /// Account.
    pub account: Option<String>,
    /// Matter.
    pub matter: Option<String>,
    /// Wave.
    pub wave: Option<String>,
    /// Typed answers.
    pub answers: Answers,
    /// The server's score.
    pub score: ResponseScore,
    /// Sealed identity, when one was given.
    pub sealed_identity: Option<Vec<u8>>,
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
}

fn now() -> Timestamp {
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as i64);
    Timestamp::from_unix_millis(millis)
}

impl Store {
    /// Opens (creating if missing) and migrates the database at `url` (`sqlite://FILE`).
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        if !url.starts_with("sqlite:") {
            anyhow::bail!("unsupported database URL {url:?}: use sqlite://FILE");
        }
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("parsing database URL {url:?}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await.with_context(|| format!("opening {url}"))?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await.context("migrating the database")?;
        let store = Store { pool };
        store.register_builtin_templates().await?;
        Ok(store)
    }

    /// Stores version 1 of each built-in template that is not stored yet.
    async fn register_builtin_templates(&self) -> anyhow::Result<()> {
        for definition in templates::templates() {
            let exists = sqlx::query("SELECT 1 FROM surveys WHERE id = ?")
                .bind(definition.id.as_str())
                .fetch_optional(&self.pool)
                .await?
                .is_some();
            if !exists {
                self.add_survey(&definition).await?;
            }
        }
        Ok(())
    }

    /// Stores a definition. A survey not stored yet keeps the definition's own version. For a
    /// stored survey, content equal to the latest version's (whatever version number the
    /// definition carries) changes nothing; other content becomes the next version, so a
    /// stored version is never rewritten under the responses that answered it.
    pub async fn add_survey(&self, definition: &SurveyDefinition) -> anyhow::Result<AddOutcome> {
        definition.validate()?;
        let latest: Option<(i64, String)> = sqlx::query_as("SELECT version, definition FROM surveys WHERE id = ? ORDER BY version DESC LIMIT 1")
            .bind(definition.id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        let mut stored = definition.clone();
        if let Some((latest_version, latest_text)) = latest {
            let latest_version = u32::try_from(latest_version).context("stored survey version out of range")?;
            let mut same_content = definition.clone();
            same_content.version = latest_version;
            if serde_json::from_str::<SurveyDefinition>(&latest_text).context("stored survey definition does not parse")? == same_content {
                return Ok(AddOutcome::Unchanged { version: latest_version });
            }
            stored.version = latest_version.checked_add(1).context("survey version overflow")?;
        }
        // Two concurrent adds of the same survey race for one version; the primary key lets
        // one win and turns the other into an error rather than a rewritten version.
        sqlx::query("INSERT INTO surveys (id, version, definition, created_at) VALUES (?, ?, ?, ?)")
            .bind(stored.id.as_str())
            .bind(i64::from(stored.version))
            .bind(serde_json::to_string(&stored)?)
            .bind(now().as_str())
            .execute(&self.pool)
            .await
            .with_context(|| format!("storing survey {} version {}", stored.id, stored.version))?;
        Ok(AddOutcome::Added { version: stored.version })
    }

    /// A survey version, or its latest version when `version` is `None`.
    pub async fn survey(&self, id: &str, version: Option<u32>) -> anyhow::Result<Option<SurveyDefinition>> {
        let row: Option<String> = match version {
            Some(version) => {
                sqlx::query_scalar("SELECT definition FROM surveys WHERE id = ? AND version = ?")
                    .bind(id)
                    .bind(i64::from(version))
                    .fetch_optional(&self.pool)
                    .await?
            }
            None => {
                sqlx::query_scalar("SELECT definition FROM surveys WHERE id = ? ORDER BY version DESC LIMIT 1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
            }
        };
        row.map(|text| serde_json::from_str(&text).context("stored survey definition does not parse")).transpose()
    }

    /// Every survey with its latest version and response count.
    pub async fn list_surveys(&self) -> anyhow::Result<Vec<SurveySummary>> {
        let rows = sqlx::query(
            "SELECT s.id, s.version, s.definition, (SELECT COUNT(*) FROM responses r WHERE r.survey_id = s.id) AS n \
             FROM surveys s WHERE s.version = (SELECT MAX(version) FROM surveys t WHERE t.id = s.id) ORDER BY s.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                let definition: SurveyDefinition = serde_json::from_str(row.get::<&str, _>("definition"))?;
                Ok(SurveySummary {
                    id: row.get("id"),
                    version: row.get::<i64, _>("version") as u32,
                    title: definition.title.english().to_owned(),
                    responses: row.get::<i64, _>("n") as u64,
                })
            })
            .collect()
    }

    /// Stores a response and its sealed identity in one transaction, or recognises it.
    pub async fn insert_response(&self, response: &NewResponse) -> anyhow::Result<InsertOutcome> {
        let mut transaction = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO responses (response_id, survey_id, survey_version, body_sha256, answers, confidentiality, account, matter, wave, \
             returning_respondent, respondent_key, score, nps, crq, submitted_at, received_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (response_id) DO NOTHING",
        )
        .bind(&response.response_id)
        .bind(&response.survey_id)
        .bind(i64::from(response.survey_version))
        .bind(&response.body_sha256)
        .bind(serde_json::to_string(&response.answers)?)
        .bind(response.confidentiality.as_str())
        .bind(&response.context.account)
        .bind(&response.context.matter)
        .bind(&response.context.wave)
        .bind(response.context.returning)
        .bind(&response.respondent_key)
        .bind(serde_json::to_string(&response.score)?)
        .bind(response.answers.nps.map(|answer| i64::from(answer.get())))
        .bind(response.score.crq)
        .bind(response.submitted_at.as_str())
        .bind(now().as_str())
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        if inserted == 0 {
            let row = sqlx::query("SELECT body_sha256, score FROM responses WHERE response_id = ?")
                .bind(&response.response_id)
                .fetch_one(&mut *transaction)
                .await?;
            transaction.rollback().await?;
            if row.get::<&str, _>("body_sha256") == response.body_sha256 {
                return Ok(InsertOutcome::Duplicate(serde_json::from_str(row.get::<&str, _>("score"))?));
            }
            return Ok(InsertOutcome::Conflict);
        }
        if let Some(sealed) = &response.sealed_identity {
            sqlx::query("INSERT INTO respondent_identities (response_id, sealed) VALUES (?, ?)")
                .bind(&response.response_id)
                .bind(sealed)
                .execute(&mut *transaction)
                .await?;
        }
        let mut outcome = InsertOutcome::Stored;
        if let Some(invitation_id) = &response.invitation_id {
            // One response per invitation: the new answers replace the earlier ones, in the
            // same transaction, so there is never a moment with both or neither.
            let earlier: Option<String> = sqlx::query_scalar("SELECT response_id FROM invitations WHERE invitation_id = ?")
                .bind(invitation_id)
                .fetch_optional(&mut *transaction)
                .await?
                .flatten();
            if let Some(earlier) = earlier.filter(|earlier| *earlier != response.response_id) {
                sqlx::query("DELETE FROM responses WHERE response_id = ?").bind(&earlier).execute(&mut *transaction).await?;
                outcome = InsertOutcome::Replaced;
            }
            sqlx::query("UPDATE invitations SET response_id = ? WHERE invitation_id = ?")
                .bind(&response.response_id)
                .bind(invitation_id)
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(outcome)
    }

    /// How many responses a survey has (all versions).
    pub async fn count_responses(&self, survey_id: &str) -> anyhow::Result<u64> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM responses WHERE survey_id = ?").bind(survey_id).fetch_one(&self.pool).await?;
        Ok(count as u64)
    }

    /// The report records of one survey version, in the order they were received.
    pub async fn response_records(&self, survey_id: &str, version: u32) -> anyhow::Result<Vec<ResponseRecord>> {
        let rows = sqlx::query(
            "SELECT answers, confidentiality, account, matter, wave, returning_respondent, respondent_key FROM responses \
             WHERE survey_id = ? AND survey_version = ? ORDER BY received_at, response_id",
        )
        .bind(survey_id)
        .bind(i64::from(version))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                let confidentiality = match row.get::<&str, _>("confidentiality") {
                    "anonymous" => ConfidentialityChoice::Anonymous,
                    "identified" => ConfidentialityChoice::Identified,
                    _ => ConfidentialityChoice::Confidential,
                };
                Ok(ResponseRecord {
                    answers: serde_json::from_str(row.get::<&str, _>("answers"))?,
                    confidentiality,
                    context: Context { account: row.get("account"), matter: row.get("matter"), wave: row.get("wave"), returning: row.get("returning_respondent") },
                    respondent_key: row.get("respondent_key"),
                })
            })
            .collect()
    }

    /// The sealed identity stored for a response, if any.
    pub async fn sealed_identity(&self, response_id: &str) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(sqlx::query_scalar("SELECT sealed FROM respondent_identities WHERE response_id = ?").bind(response_id).fetch_optional(&self.pool).await?)
    }

    /// Stores a new API token's hash with its role and accounts.
    pub async fn add_token(&self, token_sha256: &str, role: Role, accounts: &[String], label: Option<&str>) -> anyhow::Result<()> {
        sqlx::query("INSERT INTO api_tokens (token_sha256, role, accounts, label, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind(token_sha256)
            .bind(role.as_str())
            .bind(serde_json::to_string(accounts)?)
            .bind(label)
            .bind(now().as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The caller a token hash belongs to, if any.
    pub async fn caller_for_token_hash(&self, token_sha256: &str) -> anyhow::Result<Option<Caller>> {
        let row = sqlx::query("SELECT role, accounts FROM api_tokens WHERE token_sha256 = ?").bind(token_sha256).fetch_optional(&self.pool).await?;
        row.map(|row| {
            let role = Role::parse(row.get("role")).context("stored token has an unknown role")?;
            Ok(Caller { role, accounts: serde_json::from_str(row.get::<&str, _>("accounts"))? })
        })
        .transpose()
    }

    /// Every stored response of a survey version with what an export needs, oldest first.
    pub async fn export_rows(&self, survey_id: &str, version: u32) -> anyhow::Result<Vec<ExportRow>> {
        let rows = sqlx::query(
            "SELECT r.response_id, r.submitted_at, r.confidentiality, r.account, r.matter, r.wave, r.answers, r.score, i.sealed \
             FROM responses r LEFT JOIN respondent_identities i ON i.response_id = r.response_id \
             WHERE r.survey_id = ? AND r.survey_version = ? ORDER BY r.received_at, r.response_id",
        )
        .bind(survey_id)
        .bind(i64::from(version))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(ExportRow {
                    response_id: row.get("response_id"),
                    submitted_at: row.get("submitted_at"),
                    confidentiality: row.get("confidentiality"),
                    account: row.get("account"),
                    matter: row.get("matter"),
                    wave: row.get("wave"),
                    answers: serde_json::from_str(row.get::<&str, _>("answers"))?,
                    score: serde_json::from_str(row.get::<&str, _>("score"))?,
                    sealed_identity: row.get("sealed"),
                })
            })
            .collect()
    }

    /// Records an invitation so that its link is honoured and completion can be counted.
    pub async fn add_invitation(&self, invitation: &Invitation, contact_key: &str, sealed_contact: &[u8]) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO invitations (invitation_id, survey_id, contact_key, sealed_contact, account, matter, wave, expires_at, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&invitation.id)
        .bind(&invitation.survey)
        .bind(contact_key)
        .bind(sealed_contact)
        .bind(&invitation.account)
        .bind(&invitation.matter)
        .bind(&invitation.wave)
        .bind(invitation.expires)
        .bind(now().as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether an invitation is recorded, and the response currently answering it.
    pub async fn invitation_state(&self, invitation_id: &str) -> anyhow::Result<Option<Option<String>>> {
        let row = sqlx::query("SELECT response_id FROM invitations WHERE invitation_id = ?").bind(invitation_id).fetch_optional(&self.pool).await?;
        Ok(row.map(|row| row.get("response_id")))
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
