//! Ingest: the path every response takes, from the widget or from the demo generator.
//! It finds the survey version a response names, validates the answers against it, scores
//! them with `scoring`, checks an invitation or a portal's signed context, seals identity
//! and stores the response.
//!
//! It returns what was stored ([`Ingested`]) or why not ([`IngestError`]), never HTTP:
//! [`http`] adapts it to `POST /api/v1/surveys/{id}/responses`, and `rapport demo-seed`
//! calls it directly. This module must never import axum.

pub mod http;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use rapport_scoring::ValidationError;
use rapport_scoring::disclosure::Arrival;
use rapport_scoring::validate_answers;
use rapport_scoring::wire::{ConfidentialityChoice, Context, Identity, ResponseV1};
use serde::{Deserialize, Serialize};

use crate::identity::IdentityKey;
use crate::invitation::now_seconds;
use crate::invitations::{InvitationRefusal, checked_invitation};
use crate::metrics::Counters;
use crate::portal::PortalError;
use crate::state::AppState;
use crate::store::{CompiledSurvey, InsertOutcome, NewResponse, ScoredColumns, Store};

/// What ingest needs: the database, the key that seals identity, and the counters it
/// records a score mismatch in.
#[derive(Debug, Clone, Copy)]
pub struct Ingest<'a> {
    /// The database.
    pub store: &'a Store,
    /// The key that seals identity and derives respondent keys and digests.
    pub identity_key: &'a IdentityKey,
    /// Where a provisional score that differs from the server's is counted.
    pub counters: &'a Counters,
}

/// What storing a response did, as its receipt says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceiptStatus {
    /// Stored the first time.
    Stored,
    /// A resend of a response stored before; nothing changed.
    Duplicate,
    /// A second answer to the same invitation, which replaced the first.
    Replaced,
}

impl ReceiptStatus {
    /// The word the receipt carries.
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptStatus::Stored => "stored",
            ReceiptStatus::Duplicate => "duplicate",
            ReceiptStatus::Replaced => "replaced",
        }
    }
}

/// A response that is stored, now or before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingested {
    /// The response id.
    pub response_id: String,
    /// Whether it was stored now, before, or in place of an earlier answer.
    pub status: ReceiptStatus,
    /// The server's score as stored, already JSON: it was serialised once for its column,
    /// and a receipt writes it as it is.
    pub score_json: String,
}

/// Why a response was not stored.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The survey does not exist.
    #[error("no survey {0:?}")]
    NoSurvey(String),
    /// The response names another survey than the one it was sent to.
    #[error("survey_id must be {expected}, the survey in the URL, got {named}")]
    OtherSurvey {
        /// The survey it was sent to.
        expected: String,
        /// The survey it names.
        named: String,
    },
    /// The survey has no such version.
    #[error("survey {survey} has no version {version}")]
    NoVersion {
        /// The survey.
        survey: String,
        /// The version the response names.
        version: u32,
    },
    /// The answers break rules of the survey version; every problem is listed.
    #[error("the response breaks {} rule(s) of survey {survey} version {version}", errors.len())]
    Invalid {
        /// The survey.
        survey: String,
        /// Its version.
        version: u32,
        /// Each broken rule, with its field.
        errors: Vec<ValidationError>,
    },
    /// The invitation the response answers is not accepted.
    #[error(transparent)]
    Invitation(InvitationRefusal),
    /// The response both answers an invitation and carries a signed context.
    #[error("a response answers an invitation or carries a portal's signed context, not both")]
    InvitationAndSignedContext,
    /// The portal's signed context does not verify.
    #[error(transparent)]
    SignedContext(#[from] PortalError),
    /// The survey accepts only verified answers, and this one is not.
    #[error(
        "survey {0} accepts answers only through an invitation link or with its portal's signed context"
    )]
    NotVerified(String),
    /// The response id was stored before with a different body.
    #[error("response {0} was already stored with a different body")]
    Conflict(String),
    /// The invitation was answered before in confidence, and that answer is published.
    #[error(
        "You have already answered this survey, and your answers are now part of the results shared in confidence, so they can no longer be changed. Thank you."
    )]
    PublishedBefore,
    /// The database or the key failed.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl From<InvitationRefusal> for IngestError {
    fn from(refusal: InvitationRefusal) -> Self {
        match refusal {
            InvitationRefusal::Failed(error) => IngestError::Failed(error),
            refusal => IngestError::Invitation(refusal),
        }
    }
}

impl<'a> Ingest<'a> {
    /// Ingest over the server's state.
    pub fn of(state: &'a AppState) -> Self {
        Ingest {
            store: &state.store,
            identity_key: &state.identity_key,
            counters: &state.counters,
        }
    }

    /// The survey version `response` answers, sent to survey `survey_id`.
    pub async fn survey_for(
        &self,
        survey_id: &str,
        response: &ResponseV1,
    ) -> Result<Arc<CompiledSurvey>, IngestError> {
        // The version the response names is cached, so the common case costs no query. Only
        // when it is missing is the database asked whether the survey exists at all or
        // lacks that version: asking that first, on every request, read and parsed the
        // latest definition each time.
        let survey = self
            .store
            .survey(survey_id, Some(response.survey_version))
            .await?;
        if survey.is_none() && self.store.survey(survey_id, None).await?.is_none() {
            return Err(IngestError::NoSurvey(survey_id.to_owned()));
        }
        if response.survey_id.as_str() != survey_id {
            return Err(IngestError::OtherSurvey {
                expected: survey_id.to_owned(),
                named: response.survey_id.to_string(),
            });
        }
        survey.ok_or_else(|| IngestError::NoVersion {
            survey: survey_id.to_owned(),
            version: response.survey_version,
        })
    }

    /// Validates, scores, seals and stores one response to `survey`.
    pub async fn ingest(
        &self,
        survey: &CompiledSurvey,
        response: ResponseV1,
    ) -> Result<Ingested, IngestError> {
        let definition = survey.definition();
        let answers =
            validate_answers(definition, &response).map_err(|errors| IngestError::Invalid {
                survey: definition.id.to_string(),
                version: definition.version,
                errors,
            })?;
        let score = survey.scorer().score(&answers);
        if let Some(provisional) = &response.provisional
            && !provisional.agrees_with(&score)
        {
            self.counters
                .score_mismatches
                .fetch_add(1, Ordering::Relaxed);
            tracing::warn!(response_id = %response.response_id, survey = %definition.id, version = definition.version, "provisional score from the widget differs from the server's");
        }
        let canonical = serde_json::to_vec(&response).map_err(anyhow::Error::from)?;
        let invitation = match &response.invitation {
            Some(token) => Some(
                checked_invitation(self.store, self.identity_key, token, definition.id.as_str())
                    .await?,
            ),
            None => None,
        };
        // A portal's signed context vouches for who answers, as an invitation does.
        let signed_identity = match (&response.signed_context, &invitation) {
            (Some(_), Some(_)) => return Err(IngestError::InvitationAndSignedContext),
            (Some(signed), None) => Some(crate::portal::verify(
                self.identity_key,
                &response,
                signed,
                now_seconds(),
            )?),
            (None, _) => None,
        };
        if definition.require_signed_context && invitation.is_none() && signed_identity.is_none() {
            return Err(IngestError::NotVerified(definition.id.to_string()));
        }
        let anonymous = response.confidentiality == ConfidentialityChoice::Anonymous;
        // An invitation or a signed context says who answers, and what the respondent typed
        // never replaces it.
        let invited_identity = invitation.as_ref().map(|invitation| Identity {
            name: invitation.name.clone(),
            email: Some(invitation.contact.clone()),
            organisation: None,
        });
        let identity = if anonymous {
            None
        } else {
            invited_identity
                .or(signed_identity.clone())
                .or_else(|| response.identity.clone())
        };
        let sealed_identity = identity
            .as_ref()
            .map(|identity| {
                self.identity_key
                    .seal(response.response_id.as_str(), identity)
            })
            .transpose()?;
        let respondent_key = match &invitation {
            Some(invitation) => Some(self.identity_key.respondent_key(&invitation.contact)),
            None => identity
                .as_ref()
                .and_then(|identity| identity.email.as_deref())
                .map(|email| self.identity_key.respondent_key(email)),
        };
        // The invitation, not the page, is authoritative for account, matter and wave.
        let context = match &invitation {
            Some(invitation) => Context {
                account: Some(invitation.account.clone()),
                matter: invitation.matter.clone(),
                wave: invitation.wave.clone(),
                returning: response.context.returning,
            },
            // Stored as NFC, so that one label typed in two encodings is one account.
            None => rapport_scoring::validate::normalised_context(&response.context),
        };
        let report_entry = survey.layout().encode(&answers, response.confidentiality);
        let response_id = response.response_id.to_string();
        // An answer to an invitation may replace the invitation's earlier answer, to any
        // version, only while it waits for its batch, whose size is that version's.
        let batch_sizes = if invitation.is_some() {
            self.store
                .publication_batch_sizes(definition.id.as_str(), definition.version)
                .await?
        } else {
            std::collections::BTreeMap::new()
        };
        let row = NewResponse {
            response_id: response_id.clone(),
            survey_id: definition.id.to_string(),
            survey_version: definition.version,
            body_sha256: self.identity_key.body_digest(&canonical),
            earlier_body_digests: self.identity_key.earlier_body_digests(&canonical),
            scored: ScoredColumns::new(&answers, &score)?,
            confidentiality: response.confidentiality,
            context,
            respondent_key,
            report_entry,
            submitted_at: response.submitted_at.clone(),
            sealed_identity,
            batch_sizes,
            arrival: match (&invitation, &signed_identity) {
                (Some(_), _) => Arrival::Invitation,
                (None, Some(_)) => Arrival::SignedContext,
                (None, None) => Arrival::Unverified,
            },
            invitation_id: invitation.map(|invitation| invitation.id),
            locale: response
                .locale
                .as_ref()
                .map(|locale| locale.as_str().to_owned()),
        };
        let score_json = row.scored.score_json().to_owned();
        let (status, score_json) = match self.store.insert_response(row).await? {
            InsertOutcome::Stored => (ReceiptStatus::Stored, score_json),
            InsertOutcome::Replaced => (ReceiptStatus::Replaced, score_json),
            InsertOutcome::Duplicate(stored) => (
                ReceiptStatus::Duplicate,
                serde_json::to_string(&stored).map_err(anyhow::Error::from)?,
            ),
            InsertOutcome::Conflict => return Err(IngestError::Conflict(response_id)),
            InsertOutcome::PublishedBefore => return Err(IngestError::PublishedBefore),
            InsertOutcome::InvitationReplaced => {
                return Err(IngestError::Invitation(InvitationRefusal::Replaced));
            }
        };
        Ok(Ingested {
            response_id,
            status,
            score_json,
        })
    }
}
