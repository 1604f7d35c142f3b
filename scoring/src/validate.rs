//! Validation of a wire-format response against the survey version it answers.
//!
//! The result is a [`ValidResponse`] whose answers are typed ([`NpsAnswer`], [`Rating`],
//! checked options and text), or every problem found, each naming its field and the bad
//! value. Nothing is ever silently fixed: an out-of-range answer, an unknown question, an
//! identity sent to an anonymous survey are refused, not dropped or clamped.

use serde::Serialize;

pub use crate::answer::{Answers, NpsAnswer, Rating};
use crate::definition::{ConfidentialityMode, Question, SurveyDefinition};
use crate::wire::{ConfidentialityChoice, Context, Identity, ResponseV1};

/// A response that passed validation against its survey version.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidResponse {
    /// The document as received.
    pub wire: ResponseV1,
    /// The answers, typed.
    pub answers: Answers,
}

impl ValidResponse {
    /// The confidentiality choice.
    pub fn confidentiality(&self) -> ConfidentialityChoice {
        self.wire.confidentiality
    }

    /// The context sent with the response.
    pub fn context(&self) -> &Context {
        &self.wire.context
    }
}

/// One reason a response was refused. Every variant names the field, as a path such as
/// `answers.trust`, and the offending value where there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "error", rename_all = "kebab-case")]
pub enum ValidationError {
    /// The response names another survey or version than the one it is checked against.
    #[error("{field} must be {expected}, got {got}")]
    SurveyMismatch {
        /// `survey_id` or `survey_version`.
        field: String,
        /// What the survey is.
        expected: String,
        /// What the response said.
        got: String,
    },
    /// An answer for a question the survey does not have.
    #[error("{field}: the survey has no such question")]
    UnknownQuestion {
        /// `answers.<id>`.
        field: String,
    },
    /// A number outside the question's scale.
    #[error("{field} must be {min}..={max}, got {got}")]
    OutOfRange {
        /// `answers.<id>`.
        field: String,
        /// Lowest allowed.
        min: u8,
        /// Highest allowed.
        max: u8,
        /// What was sent.
        got: String,
    },
    /// A value of the wrong JSON type.
    #[error("{field} must be {expected}, got {got}")]
    WrongType {
        /// Path of the field.
        field: String,
        /// What the question takes.
        expected: &'static str,
        /// What was sent, shortened.
        got: String,
    },
    /// An option the question does not offer.
    #[error("{field}: {got:?} is not one of the offered options")]
    UnknownOption {
        /// `answers.<id>`.
        field: String,
        /// What was sent.
        got: String,
    },
    /// A required question was left unanswered.
    #[error("{field} is required")]
    Required {
        /// `answers.<id>`.
        field: String,
    },
    /// Text longer than the question accepts.
    #[error("{field} must be at most {max_chars} characters, got {got_chars}")]
    TooLong {
        /// Path of the field.
        field: String,
        /// The limit.
        max_chars: u32,
        /// The length sent.
        got_chars: usize,
    },
    /// Text that is empty or holds control or direction-override characters.
    #[error("{field} {problem}")]
    BadText {
        /// Path of the field.
        field: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// Identity or an invitation sent with an anonymous survey.
    #[error("{field} must not be sent with an anonymous survey")]
    IdentityNotAllowed {
        /// `identity` or `invitation`.
        field: String,
    },
    /// A confidentiality choice the survey's mode does not offer.
    #[error("confidentiality must be {allowed} for a survey in {mode} mode, got {got}")]
    ConfidentialityNotAllowed {
        /// Always `confidentiality`.
        field: String,
        /// The survey's mode.
        mode: &'static str,
        /// The choices the mode allows.
        allowed: &'static str,
        /// What was sent.
        got: &'static str,
    },
}

impl ValidationError {
    /// The path of the field this error is about.
    pub fn field(&self) -> &str {
        match self {
            ValidationError::SurveyMismatch { field, .. }
            | ValidationError::UnknownQuestion { field }
            | ValidationError::OutOfRange { field, .. }
            | ValidationError::WrongType { field, .. }
            | ValidationError::UnknownOption { field, .. }
            | ValidationError::Required { field }
            | ValidationError::TooLong { field, .. }
            | ValidationError::BadText { field, .. }
            | ValidationError::IdentityNotAllowed { field }
            | ValidationError::ConfidentialityNotAllowed { field, .. } => field,
        }
    }
}

/// Longest identity field, in characters.
pub const MAX_IDENTITY_CHARS: usize = 320;
/// Longest context label (account, matter, wave), in characters.
pub const MAX_CONTEXT_CHARS: usize = 200;

fn shorten(value: &serde_json::Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

/// Checks text a person typed: not blank, within `max_chars`, free of control characters
/// (other than newline and tab) and of bidirectional overrides that could disguise it.
fn check_text(
    field: impl Fn() -> String,
    text: &str,
    max_chars: usize,
    errors: &mut Vec<ValidationError>,
) -> bool {
    // One pass over the characters: most texts are fine, and this runs for every one.
    let (mut n_chars, mut blank, mut control, mut bidi) = (0, true, false, false);
    for ch in text.chars() {
        n_chars += 1;
        blank &= ch.is_whitespace() || is_invisible(ch);
        control |= ch.is_control() && ch != '\n' && ch != '\t' && ch != '\r';
        bidi |= matches!(ch, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}');
    }
    let problem = if blank {
        Some("must not be blank")
    } else if control {
        Some("must not contain control characters")
    } else if bidi {
        Some("must not contain bidirectional override or byte-order characters")
    } else {
        None
    };
    if let Some(problem) = problem {
        errors.push(ValidationError::BadText {
            field: field(),
            problem,
        });
        return false;
    }
    if n_chars > max_chars {
        errors.push(ValidationError::TooLong {
            field: field(),
            max_chars: max_chars as u32,
            got_chars: n_chars,
        });
        return false;
    }
    true
}

fn scale_value(
    field: impl Fn() -> String,
    value: &serde_json::Value,
    min: u8,
    max: u8,
    errors: &mut Vec<ValidationError>,
) -> Option<u8> {
    match value.as_u64() {
        Some(number) if (u64::from(min)..=u64::from(max)).contains(&number) => Some(number as u8),
        Some(_) => {
            errors.push(ValidationError::OutOfRange {
                field: field(),
                min,
                max,
                got: shorten(value),
            });
            None
        }
        None if value.is_number() => {
            errors.push(ValidationError::OutOfRange {
                field: field(),
                min,
                max,
                got: shorten(value),
            });
            None
        }
        None => {
            errors.push(ValidationError::WrongType {
                field: field(),
                expected: "a whole number",
                got: shorten(value),
            });
            None
        }
    }
}

/// Validates `response` against `definition`, the survey version it claims to answer.
/// Returns every problem found, so a form can show each next to its question.
pub fn validate(
    definition: &SurveyDefinition,
    response: &ResponseV1,
) -> Result<ValidResponse, Vec<ValidationError>> {
    validate_answers(definition, response).map(|answers| ValidResponse {
        wire: response.clone(),
        answers,
    })
}

/// Validates `response` as [`validate`] does, and returns only its typed answers: for a
/// caller that keeps the document itself and need not pay for a copy of it (the server,
/// once per response it ingests).
pub fn validate_answers(
    definition: &SurveyDefinition,
    response: &ResponseV1,
) -> Result<Answers, Vec<ValidationError>> {
    let mut errors = Vec::new();
    if response.survey_id != definition.id {
        errors.push(ValidationError::SurveyMismatch {
            field: "survey_id".to_owned(),
            expected: definition.id.to_string(),
            got: response.survey_id.to_string(),
        });
    }
    if response.survey_version != definition.version {
        errors.push(ValidationError::SurveyMismatch {
            field: "survey_version".to_owned(),
            expected: definition.version.to_string(),
            got: response.survey_version.to_string(),
        });
    }
    check_confidentiality(definition, response, &mut errors);
    check_context(&response.context, &mut errors);
    let answers = check_answers(definition, response, &mut errors);
    if errors.is_empty() {
        Ok(answers)
    } else {
        Err(errors)
    }
}

fn check_confidentiality(
    definition: &SurveyDefinition,
    response: &ResponseV1,
    errors: &mut Vec<ValidationError>,
) {
    let (mode, allowed) = match definition.confidentiality {
        ConfidentialityMode::Anonymous => ("anonymous", "anonymous"),
        ConfidentialityMode::Confidential => ("confidential", "confidential"),
        ConfidentialityMode::Optional => ("optional", "confidential or identified"),
    };
    let accepted = matches!(
        (definition.confidentiality, response.confidentiality),
        (
            ConfidentialityMode::Anonymous,
            ConfidentialityChoice::Anonymous
        ) | (
            ConfidentialityMode::Confidential,
            ConfidentialityChoice::Confidential
        ) | (
            ConfidentialityMode::Optional,
            ConfidentialityChoice::Confidential | ConfidentialityChoice::Identified
        )
    );
    if !accepted {
        errors.push(ValidationError::ConfidentialityNotAllowed {
            field: "confidentiality".to_owned(),
            mode,
            allowed,
            got: response.confidentiality.as_str(),
        });
    }
    let anonymous = definition.confidentiality == ConfidentialityMode::Anonymous
        || response.confidentiality == ConfidentialityChoice::Anonymous;
    if anonymous {
        if response.identity.is_some() {
            errors.push(ValidationError::IdentityNotAllowed {
                field: "identity".to_owned(),
            });
        }
        if response.invitation.is_some() {
            errors.push(ValidationError::IdentityNotAllowed {
                field: "invitation".to_owned(),
            });
        }
        return;
    }
    if let Some(identity) = &response.identity {
        check_identity(identity, errors);
    }
}

fn check_identity(identity: &Identity, errors: &mut Vec<ValidationError>) {
    let Identity {
        name,
        email,
        organisation,
    } = identity;
    if name.is_none() && email.is_none() && organisation.is_none() {
        errors.push(ValidationError::BadText {
            field: "identity".to_owned(),
            problem: "must hold at least one of name, email, organisation",
        });
    }
    for (field, value) in [
        ("identity.name", name),
        ("identity.email", email),
        ("identity.organisation", organisation),
    ] {
        if let Some(value) = value {
            check_text(|| field.to_owned(), value, MAX_IDENTITY_CHARS, errors);
        }
    }
    if let Some(email) = email {
        let looks_like_email = email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
        });
        if !looks_like_email && !email.trim().is_empty() {
            // The message names the problem, never the value: refusals are logged and pass
            // through proxies, and an identity must not travel with them.
            errors.push(ValidationError::BadText {
                field: "identity.email".to_owned(),
                problem: "must be an email address",
            });
        }
    }
}

/// Characters that show nothing: zero-width space, joiners, word joiner, soft hyphen,
/// Mongolian vowel separator, byte-order mark, the combining grapheme joiner, Hangul
/// fillers and tag characters. Text made only of them (and spaces) is blank; a label
/// holding any could pass for another label that looks the same.
fn is_invisible(ch: char) -> bool {
    matches!(ch,
        '\u{200B}'..='\u{200D}'
        | '\u{2060}'..='\u{2064}'
        | '\u{00AD}'
        | '\u{034F}'
        | '\u{115F}'
        | '\u{1160}'
        | '\u{17B4}'
        | '\u{17B5}'
        | '\u{180E}'
        | '\u{3164}'
        | '\u{FEFF}'
        | '\u{FFA0}'
        | '\u{E0000}'..='\u{E007F}')
}

/// Marks and controls that change the direction text is shown in: the left-to-right,
/// right-to-left and Arabic letter marks, embeddings, overrides and isolates.
fn is_bidirectional_control(ch: char) -> bool {
    matches!(ch, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Spaces that look like the ordinary space but are other characters: no-break, thin,
/// figure, em and the like. The ideographic space (U+3000) is not among them: it is as wide
/// as a CJK character, and names written in those scripts use it.
fn is_look_alike_space(ch: char) -> bool {
    matches!(
        ch,
        '\u{00A0}' | '\u{1680}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}'
    )
}

/// Why an account, matter or wave label is refused. The message names the problem, never
/// the label: refusals are logged and pass through proxies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelError {
    /// Empty, or only spaces and invisible characters.
    Blank,
    /// Longer than [`MAX_CONTEXT_CHARS`].
    TooLong,
    /// Starts or ends with a space.
    OuterSpace,
    /// Holds a control character: a tab, a line break, NUL, an escape.
    Control,
    /// Holds a line or paragraph separator (U+2028, U+2029).
    Separator,
    /// Holds a bidirectional mark, embedding, override or isolate.
    Bidirectional,
    /// Holds an invisible character (zero-width, soft hyphen, byte-order mark, …).
    Invisible,
    /// Holds a space that is not the ordinary space (no-break, thin, em, …).
    LookAlikeSpace,
}

impl LabelError {
    /// What is wrong, as the end of a sentence that starts with the field's name.
    pub fn problem(self) -> &'static str {
        match self {
            LabelError::Blank => "must not be blank",
            LabelError::TooLong => "must be at most 200 characters",
            LabelError::OuterSpace => "must not start or end with a space",
            LabelError::Control => "must not contain control characters, tabs or line breaks",
            LabelError::Separator => "must not contain line or paragraph separators",
            LabelError::Bidirectional => {
                "must not contain bidirectional marks, embeddings, overrides or isolates"
            }
            LabelError::Invisible => "must not contain invisible characters",
            LabelError::LookAlikeSpace => "must not contain spaces other than the ordinary space",
        }
    }
}

impl std::fmt::Display for LabelError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.problem())
    }
}

impl std::error::Error for LabelError {}

/// An account, matter or wave label: NFC-normalised, at most [`MAX_CONTEXT_CHARS`]
/// characters, and free of what would let two labels that read the same be different
/// strings (invisible, bidirectional, control and separator characters, look-alike
/// spaces, spaces at either end). Letters of every script are kept: a Cyrillic "о" in a
/// Latin name is not refused, since no rule can tell it from a real name in Cyrillic
/// (docs/SECURITY.md says why).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label(String);

impl Label {
    /// Checks `text` and returns it in Unicode Normalization Form C (with the `nfc`
    /// feature, which the server enables), so that "é" typed as one character and as "e"
    /// with a combining accent are one label.
    pub fn new(text: &str) -> Result<Label, LabelError> {
        if text
            .chars()
            .all(|ch| ch.is_whitespace() || is_invisible(ch))
        {
            return Err(LabelError::Blank);
        }
        for ch in text.chars() {
            let problem = if matches!(ch, '\u{2028}' | '\u{2029}') {
                LabelError::Separator
            } else if ch.is_control() {
                LabelError::Control
            } else if is_bidirectional_control(ch) {
                LabelError::Bidirectional
            } else if is_invisible(ch) {
                LabelError::Invisible
            } else if is_look_alike_space(ch) {
                LabelError::LookAlikeSpace
            } else {
                continue;
            };
            return Err(problem);
        }
        if text.starts_with(char::is_whitespace) || text.ends_with(char::is_whitespace) {
            return Err(LabelError::OuterSpace);
        }
        // Without the `nfc` feature (the widget), labels are checked but left as typed: the
        // server, which stores them, normalises.
        #[cfg(feature = "nfc")]
        let normalised = if unicode_normalization::is_nfc(text) {
            text.to_owned()
        } else {
            use unicode_normalization::UnicodeNormalization as _;
            text.nfc().collect()
        };
        #[cfg(not(feature = "nfc"))]
        let normalised = text.to_owned();
        if normalised.chars().count() > MAX_CONTEXT_CHARS {
            return Err(LabelError::TooLong);
        }
        Ok(Label(normalised))
    }

    /// The label.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<Label> for String {
    fn from(label: Label) -> String {
        label.0
    }
}

impl TryFrom<String> for Label {
    type Error = LabelError;
    fn try_from(text: String) -> Result<Label, LabelError> {
        Label::new(&text)
    }
}

/// `context` with its account, matter and wave in the form they are stored and reported
/// in: NFC-normalised. A label [`validate`] would refuse is left as it is; call this on a
/// validated response.
pub fn normalised_context(context: &Context) -> Context {
    let normalise = |label: &Option<String>| {
        label.as_ref().map(|text| match Label::new(text) {
            Ok(label) => String::from(label),
            Err(_) => text.clone(),
        })
    };
    Context {
        account: normalise(&context.account),
        matter: normalise(&context.matter),
        wave: normalise(&context.wave),
        returning: context.returning,
    }
}

fn check_context(context: &Context, errors: &mut Vec<ValidationError>) {
    for (field, value) in [
        ("context.account", &context.account),
        ("context.matter", &context.matter),
        ("context.wave", &context.wave),
    ] {
        if let Some(value) = value
            && let Err(problem) = Label::new(value)
        {
            // "north\u{200B}wind" or "northwind " would be reported as a second account
            // that reads the same.
            errors.push(ValidationError::BadText {
                field: field.to_owned(),
                problem: problem.problem(),
            });
        }
    }
}

fn check_answers(
    definition: &SurveyDefinition,
    response: &ResponseV1,
    errors: &mut Vec<ValidationError>,
) -> Answers {
    let mut answers = Answers::default();
    for key in response.answers.keys() {
        if definition.question(key.as_str()).is_none() {
            errors.push(ValidationError::UnknownQuestion {
                field: format!("answers.{key}"),
            });
        }
    }
    for question in &definition.questions {
        let id = question.id();
        // The field name is only written out for an error.
        let field = || format!("answers.{id}");
        let Some(value) = response.answers.get(id) else {
            if question.required() {
                errors.push(ValidationError::Required { field: field() });
            }
            continue;
        };
        match question {
            Question::Nps { .. } => {
                if let Some(number) = scale_value(field, value, 0, 10, errors) {
                    answers.nps =
                        Some(NpsAnswer::try_from(number).expect("scale_value checked 0..=10"));
                }
            }
            Question::Element { .. } | Question::Experience { .. } => {
                if let Some(number) = scale_value(field, value, 1, 7, errors) {
                    let rating = Rating::try_from(number).expect("scale_value checked 1..=7");
                    answers.ratings.insert(id.clone(), rating);
                }
            }
            Question::Text { max_chars, .. } => match value.as_str() {
                Some(text) => {
                    if check_text(field, text, *max_chars as usize, errors) {
                        answers.texts.insert(id.clone(), text.to_owned());
                    }
                }
                None => errors.push(ValidationError::WrongType {
                    field: field(),
                    expected: "a string",
                    got: shorten(value),
                }),
            },
            Question::Role { options, .. }
            | Question::Choice {
                options,
                multiple: false,
                ..
            } => match value.as_str() {
                Some(chosen) => match options.iter().find(|option| option.id.as_str() == chosen) {
                    Some(option) => {
                        answers.choices.insert(id.clone(), vec![option.id.clone()]);
                    }
                    None => errors.push(ValidationError::UnknownOption {
                        field: field(),
                        got: chosen.chars().take(60).collect(),
                    }),
                },
                None => errors.push(ValidationError::WrongType {
                    field: field(),
                    expected: "one option id",
                    got: shorten(value),
                }),
            },
            Question::Choice {
                options,
                multiple: true,
                ..
            } => {
                let Some(items) = value.as_array() else {
                    errors.push(ValidationError::WrongType {
                        field: field(),
                        expected: "a list of option ids",
                        got: shorten(value),
                    });
                    continue;
                };
                let mut chosen = Vec::new();
                for (item_idx, item) in items.iter().enumerate() {
                    let item_field = || format!("answers.{id}[{item_idx}]");
                    match item
                        .as_str()
                        .and_then(|text| options.iter().find(|option| option.id.as_str() == text))
                    {
                        Some(option) if !chosen.contains(&option.id) => {
                            chosen.push(option.id.clone())
                        }
                        Some(option) => errors.push(ValidationError::UnknownOption {
                            field: item_field(),
                            got: format!("{} (chosen twice)", option.id),
                        }),
                        None if item.is_string() => errors.push(ValidationError::UnknownOption {
                            field: item_field(),
                            got: shorten(item),
                        }),
                        None => errors.push(ValidationError::WrongType {
                            field: item_field(),
                            expected: "an option id",
                            got: shorten(item),
                        }),
                    }
                }
                if chosen.is_empty() && items.is_empty() {
                    errors.push(ValidationError::WrongType {
                        field: field(),
                        expected: "at least one option id",
                        got: "[]".to_owned(),
                    });
                } else {
                    answers.choices.insert(id.clone(), chosen);
                }
            }
        }
    }
    answers
}

#[cfg(test)]
mod tests {
    use super::{Label, LabelError};

    #[test]
    fn labels_are_nfc_and_refuse_what_disguises_them() {
        let accepted = [
            ("northwind", "northwind"),
            ("Caf\u{0065}\u{0301} Lumière", "Café Lumière"),
            ("Москва Экспорт", "Москва Экспорт"),
            ("שירות מצוין", "שירות מצוין"),
            ("株式会社\u{3000}山田", "株式会社\u{3000}山田"),
            ("2026-h2", "2026-h2"),
        ];
        for (text, stored) in accepted {
            assert_eq!(
                Label::new(text).map(String::from),
                Ok(stored.to_owned()),
                "{text:?}"
            );
        }
        let refused = [
            ("", LabelError::Blank),
            (" \u{200B} ", LabelError::Blank),
            ("northwind ", LabelError::OuterSpace),
            ("\tnorthwind", LabelError::Control),
            ("\u{3000}northwind", LabelError::OuterSpace),
            ("north\twind", LabelError::Control),
            ("north\nwind", LabelError::Control),
            ("north\u{0000}wind", LabelError::Control),
            ("north\u{2028}wind", LabelError::Separator),
            ("north\u{2029}wind", LabelError::Separator),
            ("northwind\u{200E}", LabelError::Bidirectional),
            ("\u{200F}northwind", LabelError::Bidirectional),
            ("north\u{202E}wind", LabelError::Bidirectional),
            ("north\u{2067}wind", LabelError::Bidirectional),
            ("north\u{200B}wind", LabelError::Invisible),
            ("north\u{00AD}wind", LabelError::Invisible),
            ("north\u{FEFF}wind", LabelError::Invisible),
            ("north\u{00A0}wind", LabelError::LookAlikeSpace),
            ("north\u{2009}wind", LabelError::LookAlikeSpace),
            (&*"x".repeat(201), LabelError::TooLong),
        ];
        for (text, problem) in refused {
            assert_eq!(Label::new(text), Err(problem), "{text:?}");
        }
    }
}
