//! Survey definitions: stored as versions that never change once stored, listed, and
//! compiled once per version ([`CompiledSurvey`]) into a cache shared by every request.
//! The built-in templates are stored at start.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context as _;
use rapport_scoring::definition::SurveyDefinition;
use rapport_scoring::entry::EntryLayout;
use rapport_scoring::{Scorer, templates};
use serde::Serialize;

use super::audit::AUDIT_INSERT;
use super::{Store, now};

/// Compiled survey versions by id and version.
pub(super) type SurveyCache = Arc<std::sync::RwLock<HashMap<(String, u32), Arc<CompiledSurvey>>>>;

/// A stored survey version with what scoring and reports compile from it, built once per
/// version and shared: a version never changes once stored.
#[derive(Debug)]
pub struct CompiledSurvey {
    definition: SurveyDefinition,
    scorer: Scorer,
    layout: EntryLayout,
}

impl CompiledSurvey {
    /// Compiles a validated definition.
    pub fn new(definition: SurveyDefinition) -> Self {
        CompiledSurvey {
            scorer: Scorer::new(&definition),
            layout: EntryLayout::new(&definition),
            definition,
        }
    }

    /// The definition.
    pub fn definition(&self) -> &SurveyDefinition {
        &self.definition
    }

    /// The compiled scorer.
    pub fn scorer(&self) -> &Scorer {
        &self.scorer
    }

    /// The layout of this version's report entries.
    pub fn layout(&self) -> &EntryLayout {
        &self.layout
    }
}

/// A survey and its latest version, as `GET /api/v1/surveys` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = SurveyListing)]
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

/// A stored version's number and definition, as JSON.
#[derive(Debug, Clone, sqlx::FromRow)]
struct StoredVersion {
    version: i64,
    definition: String,
}

/// A survey's latest version as listed, with the responses to all its versions.
#[derive(Debug, Clone, sqlx::FromRow)]
struct ListedSurvey {
    id: String,
    version: i64,
    definition: String,
    responses: i64,
}

impl Store {
    /// Stores version 1 of each built-in template that is not stored yet. Replicas that
    /// start together may both try; the primary key keeps one.
    pub(super) async fn register_builtin_templates(&self) -> anyhow::Result<()> {
        for definition in templates::templates() {
            definition.validate()?;
            on_pool!(&self.pool, |pool| {
                sqlx::query("INSERT INTO surveys (id, version, definition, created_at) SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM surveys WHERE id = $1) ON CONFLICT DO NOTHING")
                    .bind(definition.id.as_str())
                    .bind(i64::from(definition.version))
                    .bind(serde_json::to_string(&definition)?)
                    .bind(now().as_str())
                    .execute(pool)
                    .await?
                    .rows_affected()
            });
        }
        Ok(())
    }

    /// Stores a definition. A survey not stored yet keeps the definition's own version. For a
    /// stored survey, content equal to the latest version's (whatever version number the
    /// definition carries) changes nothing; other content becomes the next version, so a
    /// stored version is never rewritten under the responses that answered it. A new
    /// version is recorded in the audit log as made by `change.actor`, in the same
    /// transaction.
    pub async fn add_survey(
        &self,
        definition: &SurveyDefinition,
        change: SurveyChange<'_>,
    ) -> anyhow::Result<AddOutcome> {
        definition.validate()?;
        let at = now();
        on_pool!(&self.pool, |pool| {
            let mut transaction = pool.begin().await?;
            let latest: Option<StoredVersion> = sqlx::query_as(
                "SELECT version, definition FROM surveys WHERE id = $1 ORDER BY version DESC LIMIT 1",
            )
            .bind(definition.id.as_str())
            .fetch_optional(&mut *transaction)
            .await?;
            let (stored, first) = match next_version(definition, latest)? {
                Next::Unchanged(version) => return Ok(AddOutcome::Unchanged { version }),
                Next::Store { stored, first } => (stored, first),
            };
            // Two concurrent adds of the same survey race for one version; the primary key
            // lets one win and turns the other into an error rather than a rewritten version.
            let text = serde_json::to_string(&stored)?;
            sqlx::query(
                "INSERT INTO surveys (id, version, definition, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(stored.id.as_str())
            .bind(i64::from(stored.version))
            .bind(&text)
            .bind(at.as_str())
            .execute(&mut *transaction)
            .await
            .with_context(|| format!("storing survey {} version {}", stored.id, stored.version))?;
            let (action, subject) = change.audit_entry(&stored, first);
            sqlx::query(AUDIT_INSERT)
                .bind(at.as_str())
                .bind(action)
                .bind(subject)
                .bind(change.actor)
                .execute(&mut *transaction)
                .await?;
            transaction.commit().await?;
            Ok(AddOutcome::Added {
                version: stored.version,
            })
        })
    }

    /// A survey version, or its latest version when `version` is `None`. A stored version
    /// never changes, so versions are compiled once and cached; which version is the latest
    /// is always asked of the database (one indexed lookup), since another process may have
    /// added one.
    pub async fn survey(
        &self,
        id: &str,
        version: Option<u32>,
    ) -> anyhow::Result<Option<Arc<CompiledSurvey>>> {
        let version = match version {
            Some(version) => version,
            None => {
                let latest: Option<i64> = on_pool!(&self.pool, |pool| sqlx::query_scalar(
                    "SELECT MAX(version) FROM surveys WHERE id = $1"
                )
                .bind(id)
                .fetch_one(pool)
                .await?);
                let Some(latest) = latest else {
                    return Ok(None);
                };
                u32::try_from(latest).context("stored survey version out of range")?
            }
        };
        if let Some(cached) = self
            .surveys
            .read()
            .map_err(|_| anyhow::anyhow!("survey cache poisoned"))?
            .get(&(id.to_owned(), version))
        {
            return Ok(Some(cached.clone()));
        }
        let text: Option<String> = on_pool!(&self.pool, |pool| {
            sqlx::query_scalar("SELECT definition FROM surveys WHERE id = $1 AND version = $2")
                .bind(id)
                .bind(i64::from(version))
                .fetch_optional(pool)
                .await?
        });
        let Some(text) = text else { return Ok(None) };
        let definition: SurveyDefinition =
            serde_json::from_str(&text).context("stored survey definition does not parse")?;
        let compiled = Arc::new(CompiledSurvey::new(definition));
        let key = (
            compiled.definition().id.to_string(),
            compiled.definition().version,
        );
        self.surveys
            .write()
            .map_err(|_| anyhow::anyhow!("survey cache poisoned"))?
            .insert(key, compiled.clone());
        Ok(Some(compiled))
    }

    /// Every survey with its latest version and response count.
    pub async fn list_surveys(&self) -> anyhow::Result<Vec<SurveySummary>> {
        let rows: Vec<ListedSurvey> = on_pool!(&self.pool, |pool| {
            sqlx::query_as(
                "SELECT s.id, s.version, s.definition, (SELECT COUNT(*) FROM responses r WHERE r.survey_id = s.id) AS responses \
                 FROM surveys s WHERE s.version = (SELECT MAX(version) FROM surveys t WHERE t.id = s.id) ORDER BY s.id",
            )
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|listed| {
                let definition: SurveyDefinition = serde_json::from_str(&listed.definition)?;
                Ok(SurveySummary {
                    id: listed.id,
                    version: u32::try_from(listed.version)?,
                    title: definition.title.english().to_owned(),
                    responses: u64::try_from(listed.responses)?,
                })
            })
            .collect()
    }

    /// The minimum group size of every stored version of a survey, by version: the size of
    /// the batches in which protected answers to that version are published. Versions are
    /// numbered from 1; `at_least` is read too, should it be newer than what the database
    /// says is the latest.
    pub async fn publication_batch_sizes(
        &self,
        survey_id: &str,
        at_least: u32,
    ) -> anyhow::Result<std::collections::BTreeMap<u32, u32>> {
        let latest = self
            .survey(survey_id, None)
            .await?
            .map_or(at_least, |latest| latest.definition().version)
            .max(at_least);
        let mut sizes = std::collections::BTreeMap::new();
        for version in 1..=latest {
            if let Some(survey) = self.survey(survey_id, Some(version)).await? {
                sizes.insert(version, survey.definition().min_group_size);
            }
        }
        Ok(sizes)
    }

    /// How many responses a survey has (all versions).
    pub async fn count_responses(&self, survey_id: &str) -> anyhow::Result<u64> {
        let count: i64 = on_pool!(&self.pool, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM responses WHERE survey_id = $1"
        )
        .bind(survey_id)
        .fetch_one(pool)
        .await?);
        Ok(u64::try_from(count)?)
    }
}

/// Who stores a survey version, and from what, for the audit log.
#[derive(Debug, Clone, Copy)]
pub struct SurveyChange<'a> {
    /// The command line, or the label and role of the token signed in.
    pub actor: &'a str,
    /// The template a new survey was made from, if any.
    pub template: Option<&'a str>,
}

impl SurveyChange<'_> {
    /// The audit action and subject for storing `stored`: `survey made` for the `first`
    /// version stored, `survey version saved` after it.
    fn audit_entry(&self, stored: &SurveyDefinition, first: bool) -> (&'static str, String) {
        let mut subject = format!("{} version {}", stored.id, stored.version);
        if let Some(template) = self.template {
            subject.push_str(&format!(", from the {template} template"));
        }
        let action = if first {
            "survey made"
        } else {
            "survey version saved"
        };
        (action, subject)
    }
}

/// What storing a definition over the latest stored version does.
enum Next {
    /// Same content as the latest version: nothing to store.
    Unchanged(u32),
    /// The definition to store, with its version number; `first` when the survey has no
    /// stored version yet.
    Store {
        stored: Box<SurveyDefinition>,
        first: bool,
    },
}

/// Decides the version a definition is stored as, given the latest stored version.
fn next_version(
    definition: &SurveyDefinition,
    latest: Option<StoredVersion>,
) -> anyhow::Result<Next> {
    let mut stored = definition.clone();
    let first = latest.is_none();
    if let Some(latest) = latest {
        let latest_version =
            u32::try_from(latest.version).context("stored survey version out of range")?;
        let mut same_content = definition.clone();
        same_content.version = latest_version;
        if serde_json::from_str::<SurveyDefinition>(&latest.definition)
            .context("stored survey definition does not parse")?
            == same_content
        {
            return Ok(Next::Unchanged(latest_version));
        }
        stored.version = latest_version
            .checked_add(1)
            .context("survey version overflow")?;
    }
    Ok(Next::Store {
        stored: Box::new(stored),
        first,
    })
}
