//! The widget's pure state: answers, the confidentiality choice, identity fields, the phase
//! of submission and the errors to show. It is a Yew `Reducible` driven by [`Action`]s.
//!
//! This module never touches the DOM, the network or storage: the component performs those
//! effects when the phase asks for them, so every rule here is testable on its own.

use std::collections::BTreeMap;
use std::rc::Rc;

use rapport_scoring::definition::{
    ConfidentialityMode, IdentityRequest, Question, SurveyDefinition,
};
use rapport_scoring::ids::{Locale, QuestionId, ResponseId};
use rapport_scoring::score::ResponseScore;
use rapport_scoring::wire::{
    ConfidentialityChoice, Context, FormatVersion, Identity, ResponseV1, SignedContext, Timestamp,
};
use rapport_scoring::{Scorer, validate};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use yew::Reducible;

/// Where the respondent is.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Answering.
    Filling,
    /// Sending the response now.
    Sending,
    /// The endpoint could not be reached; the response waits in local storage and is retried.
    Queued,
    /// This page may not send to the endpoint (CORS or a 401/403): the response waits in
    /// local storage, unsent, until the page is loaded again after the site is fixed.
    Blocked,
    /// Sent and acknowledged. The provisional score is kept for the host page's event;
    /// the respondent sees only their own answers, never a category.
    Done(ResponseScore),
    /// This device already sent answers to this survey (or with this invitation) before the
    /// page was loaded: say so instead of offering a blank form to send twice.
    Answered,
}

/// Identity as typed, before it is trimmed into the wire format.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IdentityDraft {
    /// Full name.
    pub name: String,
    /// Email address.
    pub email: String,
    /// Organisation.
    pub organisation: String,
}

/// Which identity field an edit is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityField {
    /// Full name.
    Name,
    /// Email.
    Email,
    /// Organisation.
    Organisation,
}

/// What can be saved and restored after an accidental reload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// The response id, kept so a restored response is still the same response.
    pub response_id: ResponseId,
    /// Answers so far.
    pub answers: BTreeMap<String, Value>,
    /// The choice so far.
    pub confidentiality: ConfidentialityChoice,
    /// Identity so far.
    pub identity: IdentityDraft,
}

/// A portal's signed context and the contact it vouches for.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedContact {
    /// The signature and its expiry, sent with the response.
    pub context: SignedContext,
    /// The contact's name, as signed.
    pub name: Option<String>,
    /// The contact's email, as signed.
    pub email: String,
}

/// The whole state of one widget.
#[derive(Debug, Clone, PartialEq)]
pub struct SurveyState {
    /// The survey shown.
    pub definition: Rc<SurveyDefinition>,
    /// The locale shown.
    pub locale: Locale,
    /// Answers keyed by question id, in wire form.
    pub answers: BTreeMap<String, Value>,
    /// The confidentiality choice.
    pub confidentiality: ConfidentialityChoice,
    /// Identity fields.
    pub identity: IdentityDraft,
    /// The invitation token, when the survey was opened from a link; it carries identity,
    /// so identity is not asked again.
    pub invitation: Option<String>,
    /// The portal's signed context, when the host page gave one: it says who answers, so
    /// identity is not asked.
    pub signed: Option<SignedContact>,
    /// Account, matter and wave given by the host page.
    pub context: Context,
    /// This response's idempotency key.
    pub response_id: ResponseId,
    /// When the survey was opened.
    pub started_at: Timestamp,
    /// Submission phase.
    pub phase: Phase,
    /// Errors to show, keyed by field (`answers.nps`, `identity.email`, or `form`).
    pub errors: BTreeMap<String, String>,
    /// The respondent chose to answer again with their invitation: the new answers replace
    /// the ones sent before, and the form says so.
    pub replacing: bool,
}

/// Everything that can happen to the state.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// An answer was given or changed.
    Answer(String, Value),
    /// An answer was cleared (an emptied text box).
    Clear(String),
    /// The confidentiality choice changed.
    Choose(ConfidentialityChoice),
    /// An identity field was edited.
    EditIdentity(IdentityField, String),
    /// The respondent pressed submit at this time.
    Submit(Timestamp),
    /// The endpoint acknowledged the response.
    Acknowledged,
    /// The endpoint could not be reached or failed; the response is queued.
    Queue,
    /// The endpoint refused the response with this message and field errors.
    Refused(String, BTreeMap<String, String>),
    /// The browser or the endpoint refused this page: nothing the respondent can change
    /// will help, and the response waits for the site to be fixed.
    Blocked,
    /// A saved draft was found after a reload.
    Restore(Draft),
    /// The restored response was already submitted and still waits in the outbox: show
    /// the waiting screen, not a form that could be sent a second time.
    Resume,
    /// This device already sent answers to this survey: say so rather than show a form.
    AlreadyAnswered,
    /// The respondent, invited, chose to answer again; the new answers replace the old.
    AnswerAgain,
}

impl SurveyState {
    /// A fresh state for `definition`.
    pub fn new(
        definition: Rc<SurveyDefinition>,
        locale: Locale,
        response_id: ResponseId,
        started_at: Timestamp,
    ) -> Self {
        let confidentiality = match definition.confidentiality {
            ConfidentialityMode::Anonymous => ConfidentialityChoice::Anonymous,
            ConfidentialityMode::Confidential | ConfidentialityMode::Optional => {
                ConfidentialityChoice::Confidential
            }
        };
        SurveyState {
            definition,
            locale,
            answers: BTreeMap::new(),
            confidentiality,
            identity: IdentityDraft::default(),
            invitation: None,
            signed: None,
            context: Context::default(),
            response_id,
            started_at,
            phase: Phase::Filling,
            errors: BTreeMap::new(),
            replacing: false,
        }
    }

    /// Whether identity fields are shown, as the survey's `ask_identity` says: never for
    /// anonymous surveys or when an invitation or a portal's signed context already says who
    /// answers; with `always`, to confidential and identified respondents alike; with
    /// `when-identified` (the default), in optional mode only once the respondent chooses to
    /// be identified, and always in a confidential survey; with `never`, not at all.
    pub fn asks_identity(&self) -> bool {
        if self.invitation.is_some() || self.signed.is_some() {
            return false;
        }
        match (
            self.definition.confidentiality,
            self.definition.ask_identity,
        ) {
            (ConfidentialityMode::Anonymous, _) | (_, IdentityRequest::Never) => false,
            (ConfidentialityMode::Confidential, _) | (_, IdentityRequest::Always) => true,
            (ConfidentialityMode::Optional, IdentityRequest::WhenIdentified) => {
                self.confidentiality == ConfidentialityChoice::Identified
            }
        }
    }

    /// Whether the respondent may choose to be identified: only in optional mode, and only
    /// when a name can come from somewhere (the form, an invitation or a signed context).
    pub fn may_be_identified(&self) -> bool {
        self.definition.confidentiality == ConfidentialityMode::Optional
            && (self.definition.ask_identity != IdentityRequest::Never
                || self.invitation.is_some()
                || self.signed.is_some())
    }

    /// Someone who chooses to be identified through the form must say who they are: a name
    /// or an email (an organisation alone names nobody).
    fn identified_without_name_or_email(&self) -> bool {
        self.confidentiality == ConfidentialityChoice::Identified
            && self.asks_identity()
            && self.identity.name.trim().is_empty()
            && self.identity.email.trim().is_empty()
    }

    /// Answered questions and all questions, for the progress indication.
    pub fn progress(&self) -> (usize, usize) {
        let total = self.definition.questions.len();
        let answered = self
            .definition
            .questions
            .iter()
            .filter(|question| self.answers.contains_key(question.id().as_str()))
            .count();
        (answered, total)
    }

    /// The draft to save locally.
    pub fn draft(&self) -> Draft {
        Draft {
            response_id: self.response_id.clone(),
            answers: self.answers.clone(),
            confidentiality: self.confidentiality,
            identity: self.identity.clone(),
        }
    }

    fn identity(&self) -> Option<Identity> {
        // The signed contact is sent as signed (the server checks it), whatever the choice:
        // a confidential respondent's identity is held confidentially.
        if let Some(signed) = &self.signed
            && self.confidentiality != ConfidentialityChoice::Anonymous
        {
            return Some(Identity {
                name: signed.name.clone(),
                email: Some(signed.email.clone()),
                organisation: None,
            });
        }
        if !self.asks_identity() {
            return None;
        }
        let field = |value: &str| Some(value.trim().to_owned()).filter(|value| !value.is_empty());
        let identity = Identity {
            name: field(&self.identity.name),
            email: field(&self.identity.email),
            organisation: field(&self.identity.organisation),
        };
        (identity != Identity::default()).then_some(identity)
    }

    /// The wire-format document for this response, submitted at `submitted_at`, without
    /// the provisional score.
    pub fn to_wire(&self, submitted_at: Timestamp) -> ResponseV1 {
        ResponseV1 {
            format: FormatVersion,
            response_id: self.response_id.clone(),
            survey_id: self.definition.id.clone(),
            survey_version: self.definition.version,
            locale: Some(self.locale.clone()),
            answers: self
                .answers
                .iter()
                .filter_map(|(id, value)| Some((QuestionId::new(id.as_str()).ok()?, value.clone())))
                .collect(),
            confidentiality: self.confidentiality,
            identity: self.identity(),
            // An anonymous survey must not be linkable to anyone, and an invitation says who
            // was asked, so it is never sent with one (scoring would refuse it anyway).
            invitation: self
                .invitation
                .clone()
                .filter(|_| self.definition.confidentiality != ConfidentialityMode::Anonymous),
            context: self.context.clone(),
            started_at: Some(self.started_at.clone()),
            submitted_at,
            provisional: None,
            signed_context: self
                .signed
                .as_ref()
                .filter(|_| self.definition.confidentiality != ConfidentialityMode::Anonymous)
                .map(|signed| signed.context.clone()),
        }
    }

    /// Validates and scores the response as it stands: the document to send with its
    /// provisional score, or the errors keyed by field.
    pub fn submission(
        &self,
        submitted_at: Timestamp,
    ) -> Result<ResponseV1, BTreeMap<String, String>> {
        let mut wire = self.to_wire(submitted_at);
        let mut errors: BTreeMap<String, String> = match validate(&self.definition, &wire) {
            Ok(valid) => {
                wire.provisional = Some(Scorer::new(&self.definition).score(&valid.answers));
                BTreeMap::new()
            }
            Err(errors) => errors
                .iter()
                .map(|error| {
                    (
                        error.field().to_owned(),
                        crate::i18n::validation_message(error, &self.locale),
                    )
                })
                .collect(),
        };
        if self.identified_without_name_or_email() {
            errors.insert(
                "identity".to_owned(),
                crate::i18n::strings(&self.locale).name_or_email.to_owned(),
            );
        }
        if errors.is_empty() {
            Ok(wire)
        } else {
            Err(errors)
        }
    }

    /// The provisional score of the answers as they stand.
    pub fn provisional(&self) -> Option<ResponseScore> {
        self.submission(self.started_at.clone())
            .ok()
            .and_then(|wire| wire.provisional)
    }

    /// The survey's first 0–10 question and `chosen` as its answer, when a number from 0 to
    /// 10 was chosen before the survey opened (in an email's scale) and the survey asks one.
    pub fn chosen_nps(&self, chosen: Option<u8>) -> Option<(String, Value)> {
        let value = chosen.filter(|value| *value <= 10)?;
        self.definition
            .questions
            .iter()
            .find_map(|question| match question {
                Question::Nps { id, .. } => Some((id.as_str().to_owned(), Value::from(value))),
                _ => None,
            })
    }

    /// The question with this id.
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.definition.question(id)
    }
}

impl Reducible for SurveyState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        let editing = matches!(next.phase, Phase::Filling);
        match action {
            Action::Answer(id, value) if editing => {
                next.errors.remove(&format!("answers.{id}"));
                next.answers.insert(id, value);
            }
            Action::Clear(id) if editing => {
                next.errors.remove(&format!("answers.{id}"));
                next.answers.remove(&id);
            }
            Action::Choose(choice) if editing => {
                let allowed = match choice {
                    ConfidentialityChoice::Confidential => {
                        next.definition.confidentiality == ConfidentialityMode::Optional
                    }
                    ConfidentialityChoice::Identified => next.may_be_identified(),
                    ConfidentialityChoice::Anonymous => false,
                };
                if allowed {
                    next.confidentiality = choice;
                    next.errors.retain(|field, _| {
                        !field.starts_with("identity") && field != "confidentiality"
                    });
                }
            }
            Action::EditIdentity(field, value) if editing => {
                let (slot, key) = match field {
                    IdentityField::Name => (&mut next.identity.name, "identity.name"),
                    IdentityField::Email => (&mut next.identity.email, "identity.email"),
                    IdentityField::Organisation => {
                        (&mut next.identity.organisation, "identity.organisation")
                    }
                };
                *slot = value;
                next.errors.remove(key);
                next.errors.remove("identity");
            }
            Action::Submit(now) if editing => match self.submission(now) {
                Ok(_) => {
                    next.errors.clear();
                    next.phase = Phase::Sending;
                }
                Err(errors) => next.errors = errors,
            },
            Action::Acknowledged if matches!(next.phase, Phase::Sending | Phase::Queued) => {
                next.phase = Phase::Done(self.provisional().unwrap_or_default());
            }
            Action::Queue if matches!(next.phase, Phase::Sending) => next.phase = Phase::Queued,
            Action::Blocked if matches!(next.phase, Phase::Sending | Phase::Queued) => {
                next.phase = Phase::Blocked;
            }
            Action::Refused(message, fields)
                if matches!(next.phase, Phase::Sending | Phase::Queued) =>
            {
                next.phase = Phase::Filling;
                next.errors = fields;
                if !message.is_empty() {
                    next.errors.insert("form".to_owned(), message);
                }
            }
            Action::Restore(draft) if editing => {
                next.response_id = draft.response_id;
                next.answers = draft.answers;
                next.confidentiality = draft.confidentiality;
                next.identity = draft.identity;
            }
            Action::Resume if editing => next.phase = Phase::Queued,
            Action::AlreadyAnswered if editing => next.phase = Phase::Answered,
            Action::AnswerAgain if matches!(next.phase, Phase::Answered) => {
                next.phase = Phase::Filling;
                next.replacing = true;
            }
            _ => return self,
        }
        Rc::new(next)
    }
}
