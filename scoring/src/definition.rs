//! The survey definition model: questions, wording per locale, the confidentiality mode,
//! category thresholds and open-text topics.
//!
//! A definition is loaded from TOML or JSON and fully validated on load, so every other
//! module can trust it: ids are unique, every element points at a real level, every text has
//! English wording, and the thresholds are ordered. This module knows nothing of responses.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ids::{LevelId, Locale, OptionId, QuestionId, SurveyId, TopicId};

/// The most rating questions (CRQ elements plus contract-experience items) one survey may
/// hold. Aggregation keeps a fixed-size tally per rated item, so the bound keeps it small.
pub const MAX_RATED_ITEMS: usize = 32;
/// The most elements one pyramid level may hold. Scores are kept as exact scaled integers,
/// and the scale grows with the least common multiple of the element counts.
pub const MAX_ELEMENTS_PER_LEVEL: usize = 16;
/// The most levels the relationship-quality pyramid may have.
pub const MAX_LEVELS: usize = 8;

/// Wording in several locales. English (`en`) is always present once validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct Text(pub BTreeMap<Locale, String>);

impl Text {
    /// The wording for `locale`: the exact tag, else its language, else English.
    pub fn get(&self, locale: &Locale) -> &str {
        self.0
            .get(locale)
            .or_else(|| {
                self.0
                    .iter()
                    .find(|(tag, _)| tag.language() == locale.language())
                    .map(|(_, text)| text)
            })
            .or_else(|| self.0.get(&Locale::english()))
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// The English wording.
    pub fn english(&self) -> &str {
        self.get(&Locale::english())
    }

    /// The locales this text is written in.
    pub fn locales(&self) -> impl Iterator<Item = &Locale> {
        self.0.keys()
    }
}

/// How a survey treats the respondent's identity (see DOMAIN.md, "Confidentiality").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum ConfidentialityMode {
    /// Nothing can link an answer to the person; no identity is asked for or kept.
    Anonymous,
    /// Identity is kept, encrypted, and never shown with the answers to the company rated.
    Confidential,
    /// Confidential unless the respondent chooses to be identified. The recommended default.
    Optional,
}

/// When the widget asks for the respondent's identity (name, email, organisation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum IdentityRequest {
    /// Ask every respondent who is not anonymous, confidential ones included: their identity
    /// is held by the programme team and never shown to the team being rated, so the
    /// programme can follow them across waves and close the loop without revealing what
    /// they said. Giving it stays voluntary unless they choose to be identified.
    Always,
    /// Ask only a respondent who chooses to be identified (and every respondent of an
    /// always-confidential survey). The behaviour of surveys that do not say.
    #[default]
    WhenIdentified,
    /// Never ask; identity comes only from an invitation or a portal's signed context.
    Never,
}

impl IdentityRequest {
    fn is_default(&self) -> bool {
        *self == IdentityRequest::WhenIdentified
    }
}

/// What a piece of open text is for. Strength and weakness feed topic shares and the
/// close-the-loop list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum TextPurpose {
    /// "What is our greatest strength?"
    Strength,
    /// "What is our greatest weakness?"
    Weakness,
    /// Any other open question.
    Other,
}

/// One option of a role or choice question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    /// The value sent in answers.
    pub id: OptionId,
    /// The wording shown.
    pub label: Text,
}

/// One question of a survey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Question {
    /// "How likely are you to recommend us to a friend or colleague?" on 0–10.
    Nps {
        /// Answer key.
        id: QuestionId,
        /// The question.
        text: Text,
        /// Label under 0, e.g. "Not at all likely".
        low_label: Text,
        /// Label under 10, e.g. "Extremely likely".
        high_label: Text,
        /// Whether the respondent must answer.
        #[serde(default)]
        required: bool,
    },
    /// A relationship-quality element: a statement rated 1–7, belonging to a pyramid level.
    Element {
        /// Answer key.
        id: QuestionId,
        /// The pyramid level this element counts toward.
        level: LevelId,
        /// The statement.
        text: Text,
        /// Whether the respondent must answer.
        #[serde(default)]
        required: bool,
    },
    /// A contract-experience statement rated 1–7; these form the contract-experience score.
    Experience {
        /// Answer key.
        id: QuestionId,
        /// The statement.
        text: Text,
        /// Whether the respondent must answer.
        #[serde(default)]
        required: bool,
    },
    /// Open text.
    Text {
        /// Answer key.
        id: QuestionId,
        /// The question.
        text: Text,
        /// What the text is for.
        purpose: TextPurpose,
        /// Longest accepted answer, in characters.
        #[serde(default = "default_max_chars")]
        max_chars: u32,
        /// Whether the respondent must answer.
        #[serde(default)]
        required: bool,
    },
    /// The respondent's role, used as a segment.
    Role {
        /// Answer key.
        id: QuestionId,
        /// The question.
        text: Text,
        /// The roles offered.
        options: Vec<ChoiceOption>,
        /// Whether the respondent must answer.
        #[serde(default)]
        required: bool,
    },
    /// A free choice question.
    Choice {
        /// Answer key.
        id: QuestionId,
        /// The question.
        text: Text,
        /// The options offered.
        options: Vec<ChoiceOption>,
        /// Whether several options may be chosen.
        #[serde(default)]
        multiple: bool,
        /// Whether the respondent must answer.
        #[serde(default)]
        required: bool,
    },
}

fn default_max_chars() -> u32 {
    2000
}

impl Question {
    /// The answer key.
    pub fn id(&self) -> &QuestionId {
        match self {
            Question::Nps { id, .. }
            | Question::Element { id, .. }
            | Question::Experience { id, .. }
            | Question::Text { id, .. }
            | Question::Role { id, .. }
            | Question::Choice { id, .. } => id,
        }
    }

    /// The question or statement wording.
    pub fn text(&self) -> &Text {
        match self {
            Question::Nps { text, .. }
            | Question::Element { text, .. }
            | Question::Experience { text, .. }
            | Question::Text { text, .. }
            | Question::Role { text, .. }
            | Question::Choice { text, .. } => text,
        }
    }

    /// Whether an answer is required.
    pub fn required(&self) -> bool {
        match self {
            Question::Nps { required, .. }
            | Question::Element { required, .. }
            | Question::Experience { required, .. }
            | Question::Text { required, .. }
            | Question::Role { required, .. }
            | Question::Choice { required, .. } => *required,
        }
    }

    /// Whether this question is answered on the 1–7 agreement scale.
    pub fn is_rated(&self) -> bool {
        matches!(self, Question::Element { .. } | Question::Experience { .. })
    }
}

/// A level of the relationship-quality pyramid, listed from the base up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Level {
    /// The level id elements refer to.
    pub id: LevelId,
    /// The level's name.
    pub label: Text,
}

/// Overall-CRQ thresholds for the relationship categories. A score at or above a threshold
/// falls in that category; below `stalker` is Opponent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CategoryThresholds {
    /// Lowest overall CRQ of an Ambassador (default 5.5).
    pub ambassador: f64,
    /// Lowest overall CRQ of an Ambivalent relationship (default 4.5).
    pub ambivalent: f64,
    /// Lowest overall CRQ of a Stalker (default 3.5).
    pub stalker: f64,
}

impl Default for CategoryThresholds {
    fn default() -> Self {
        Self {
            ambassador: 5.5,
            ambivalent: 4.5,
            stalker: 3.5,
        }
    }
}

/// The lowest rating a contract-experience item may be given before it needs a conversation,
/// unless the survey says otherwise: the disagreeing side of the 1–7 scale.
pub const DEFAULT_EXPERIENCE_THRESHOLD: u8 = 3;

/// What puts a response on the close-the-loop list, beyond the fixed rules (a detractor, a
/// Stalker or an Opponent, a CRQ element rated 3 or lower).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CloseLoopRules {
    /// A contract-experience item rated this or lower (1–7) needs a conversation (default 3).
    #[serde(default = "default_experience_threshold")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 7)))]
    pub experience_threshold: u8,
}

fn default_experience_threshold() -> u8 {
    DEFAULT_EXPERIENCE_THRESHOLD
}

impl Default for CloseLoopRules {
    fn default() -> Self {
        Self {
            experience_threshold: DEFAULT_EXPERIENCE_THRESHOLD,
        }
    }
}

impl CloseLoopRules {
    fn is_default(&self) -> bool {
        *self == CloseLoopRules::default()
    }
}

/// An open-text topic: a respondent mentions it when their text contains any keyword.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Topic {
    /// Topic id.
    pub id: TopicId,
    /// Topic name.
    pub label: Text,
    /// Case-insensitive keywords or word stems, e.g. `respons` matches "responsive".
    pub keywords: Vec<String>,
}

/// A complete, validated survey definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SurveyDefinition {
    /// Survey id, stable across versions.
    pub id: SurveyId,
    /// Version, from 1. A response records the version it answered.
    pub version: u32,
    /// Title shown above the questions.
    pub title: Text,
    /// How identity is treated.
    pub confidentiality: ConfidentialityMode,
    /// Who holds a confidential respondent's identity, as the widget names them ("the client
    /// feedback team at Hartley & Voss"). The widget says that only they can see who the
    /// respondent is, and that the team being rated never sees who said what. Without it,
    /// the widget says "the people who run this feedback programme".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub programme_team: Option<Text>,
    /// Pyramid levels from the base up. May be empty for a survey without CRQ elements.
    #[serde(default)]
    pub levels: Vec<Level>,
    /// Questions in the order shown.
    pub questions: Vec<Question>,
    /// Relationship-category thresholds.
    #[serde(default)]
    pub thresholds: CategoryThresholds,
    /// What else puts a response on the close-the-loop list: a contract-experience item
    /// rated at or below `experience_threshold`. Not written out while it holds the default.
    #[serde(default, skip_serializing_if = "CloseLoopRules::is_default")]
    pub close_loop: CloseLoopRules,
    /// Smallest group whose scores a breakdown may show; smaller groups show counts only.
    #[serde(default = "default_min_group_size")]
    pub min_group_size: u32,
    /// Whether the thank-you screen lists the respondent's own answers back to them, in
    /// neutral words: the 0–10 answer and each level's mean ("Likelihood to recommend us:
    /// 9 of 10", "Relationship: 6.3 of 7"). The respondent never sees a score's category
    /// (promoter, detractor, ambassador, opponent, ...): those are the programme's words,
    /// and the provisional score goes only to the host page and the server. Definitions
    /// stored under the former name `show_provisional_result` still load.
    #[serde(default = "default_true", alias = "show_provisional_result")]
    pub show_answer_summary: bool,
    /// When the widget asks for name, email and organisation. An invitation or a portal's
    /// signed context says who answers, so identity is never asked with one.
    #[serde(default, skip_serializing_if = "IdentityRequest::is_default")]
    pub ask_identity: IdentityRequest,
    /// Topics counted in strength and weakness texts.
    #[serde(default)]
    pub topics: Vec<Topic>,
    /// Origins (such as `https://portal.example.com`) whose pages may post responses to this
    /// survey from the browser, besides the server's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_origins: Vec<String>,
    /// Accept only answers the server can vouch for: through an invitation, or with the
    /// embedding portal's signed context. Others are refused with a clear error.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_signed_context: bool,
}

fn default_min_group_size() -> u32 {
    5
}

fn default_true() -> bool {
    true
}

/// Why a survey definition was refused. `field` is a path such as `questions[3].level`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    /// The document is not well-formed, or a field has the wrong shape.
    #[error("{format} error at {field}: {message}")]
    Parse {
        /// `toml` or `json`.
        format: &'static str,
        /// Path of the offending field (`.` for the document itself).
        field: String,
        /// What the parser said.
        message: String,
    },
    /// The document parses but breaks a rule of the model.
    #[error("invalid survey definition at {field}: {message}")]
    Invalid {
        /// Path of the offending field.
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl DefinitionError {
    /// The path of the field the error is about.
    pub fn field(&self) -> &str {
        match self {
            DefinitionError::Parse { field, .. } | DefinitionError::Invalid { field, .. } => field,
        }
    }

    fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        DefinitionError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[cfg(feature = "error-paths")]
fn path_text(path: &serde_path_to_error::Path) -> String {
    let text = path.to_string();
    if text.is_empty() {
        ".".to_owned()
    } else {
        text
    }
}

impl SurveyDefinition {
    /// Parses and validates a TOML definition.
    #[cfg(feature = "toml")]
    pub fn from_toml(source: &str) -> Result<Self, DefinitionError> {
        let deserializer =
            toml::de::Deserializer::parse(source).map_err(|err| DefinitionError::Parse {
                format: "toml",
                field: ".".to_owned(),
                message: err.message().to_owned(),
            })?;
        let definition: SurveyDefinition =
            serde_path_to_error::deserialize(deserializer).map_err(|err| {
                DefinitionError::Parse {
                    format: "toml",
                    field: path_text(err.path()),
                    message: err.inner().message().to_owned(),
                }
            })?;
        definition.validate()?;
        Ok(definition)
    }

    /// Parses and validates a JSON definition.
    ///
    /// With the `error-paths` feature a parse error names the field (`questions[3].label`);
    /// without it, serde_json's line and column.
    pub fn from_json(source: &str) -> Result<Self, DefinitionError> {
        let mut deserializer = serde_json::Deserializer::from_str(source);
        #[cfg(feature = "error-paths")]
        let parsed = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
            DefinitionError::Parse {
                format: "json",
                field: path_text(err.path()),
                message: err.inner().to_string(),
            }
        });
        #[cfg(not(feature = "error-paths"))]
        let parsed = serde::Deserialize::deserialize(&mut deserializer).map_err(|err| {
            DefinitionError::Parse {
                format: "json",
                field: ".".to_owned(),
                message: err.to_string(),
            }
        });
        let definition: SurveyDefinition = parsed?;
        deserializer.end().map_err(|err| DefinitionError::Parse {
            format: "json",
            field: ".".to_owned(),
            message: err.to_string(),
        })?;
        definition.validate()?;
        Ok(definition)
    }

    /// Parses TOML or JSON, deciding by the first non-blank character (`{` means JSON).
    #[cfg(feature = "toml")]
    pub fn parse(source: &str) -> Result<Self, DefinitionError> {
        if source.trim_start().starts_with('{') {
            Self::from_json(source)
        } else {
            Self::from_toml(source)
        }
    }

    /// The definition as pretty TOML, the format operators edit.
    #[cfg(feature = "toml")]
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a validated definition always serialises to TOML")
    }

    /// Checks every rule of the model. Loaders call it; code that builds a definition by hand
    /// must call it too before use.
    pub fn validate(&self) -> Result<(), DefinitionError> {
        if self.version == 0 {
            return Err(DefinitionError::invalid(
                "version",
                "version must be 1 or more",
            ));
        }
        check_text("title", &self.title)?;
        if let Some(team) = &self.programme_team {
            check_text("programme_team", team)?;
        }
        // An anonymous survey keeps nothing that identifies anyone, so it cannot ask.
        if self.confidentiality == ConfidentialityMode::Anonymous
            && self.ask_identity == IdentityRequest::Always
        {
            return Err(DefinitionError::invalid(
                "ask_identity",
                "an anonymous survey cannot ask for identity",
            ));
        }
        if !(1..=1000).contains(&self.min_group_size) {
            return Err(DefinitionError::invalid(
                "min_group_size",
                "the smallest group shown must be between 1 and 1000 respondents",
            ));
        }
        self.validate_thresholds()?;
        let experience_threshold = self.close_loop.experience_threshold;
        if !(1..=7).contains(&experience_threshold) {
            return Err(DefinitionError::invalid(
                "close_loop.experience_threshold",
                format!("experience_threshold must be 1..=7, got {experience_threshold}"),
            ));
        }

        if self.levels.len() > MAX_LEVELS {
            return Err(DefinitionError::invalid(
                "levels",
                format!("at most {MAX_LEVELS} levels are supported"),
            ));
        }
        let mut level_ids = BTreeSet::new();
        for (idx, level) in self.levels.iter().enumerate() {
            if !level_ids.insert(&level.id) {
                return Err(DefinitionError::invalid(
                    format!("levels[{idx}].id"),
                    format!("duplicate level id `{}`", level.id),
                ));
            }
            check_text(&format!("levels[{idx}].label"), &level.label)?;
        }

        if self.questions.is_empty() {
            return Err(DefinitionError::invalid(
                "questions",
                "a survey needs at least one question",
            ));
        }
        let mut question_ids = BTreeSet::new();
        let mut elements_per_level: BTreeMap<&LevelId, usize> = BTreeMap::new();
        let (mut n_nps, mut n_roles, mut n_rated) = (0, 0, 0);
        for (idx, question) in self.questions.iter().enumerate() {
            let field = format!("questions[{idx}]");
            if !question_ids.insert(question.id()) {
                return Err(DefinitionError::invalid(
                    format!("{field}.id"),
                    format!("duplicate question id `{}`", question.id()),
                ));
            }
            check_text(&format!("{field}.text"), question.text())?;
            match question {
                Question::Nps {
                    low_label,
                    high_label,
                    ..
                } => {
                    n_nps += 1;
                    check_text(&format!("{field}.low_label"), low_label)?;
                    check_text(&format!("{field}.high_label"), high_label)?;
                }
                Question::Element { level, .. } => {
                    if !level_ids.contains(level) {
                        return Err(DefinitionError::invalid(
                            format!("{field}.level"),
                            format!("no level `{level}` is defined"),
                        ));
                    }
                    *elements_per_level.entry(level).or_default() += 1;
                    n_rated += 1;
                }
                Question::Experience { .. } => n_rated += 1,
                Question::Text { max_chars, .. } => {
                    if !(1..=20_000).contains(max_chars) {
                        return Err(DefinitionError::invalid(
                            format!("{field}.max_chars"),
                            "max_chars must be 1..=20000",
                        ));
                    }
                }
                Question::Role { options, .. } => {
                    n_roles += 1;
                    check_options(&field, options)?;
                }
                Question::Choice { options, .. } => check_options(&field, options)?,
            }
        }
        if n_nps > 1 {
            return Err(DefinitionError::invalid(
                "questions",
                "a survey may have at most one nps question",
            ));
        }
        if n_roles > 1 {
            return Err(DefinitionError::invalid(
                "questions",
                "a survey may have at most one role question",
            ));
        }
        if n_rated > MAX_RATED_ITEMS {
            return Err(DefinitionError::invalid(
                "questions",
                format!("at most {MAX_RATED_ITEMS} rated statements are supported"),
            ));
        }
        for (idx, level) in self.levels.iter().enumerate() {
            match elements_per_level.get(&level.id).copied().unwrap_or(0) {
                0 => {
                    return Err(DefinitionError::invalid(
                        format!("levels[{idx}]"),
                        format!("level `{}` has no element", level.id),
                    ));
                }
                n if n > MAX_ELEMENTS_PER_LEVEL => {
                    return Err(DefinitionError::invalid(
                        format!("levels[{idx}]"),
                        format!(
                            "level `{}` has {n} elements; at most {MAX_ELEMENTS_PER_LEVEL} are supported",
                            level.id
                        ),
                    ));
                }
                _ => {}
            }
        }

        for (idx, origin) in self.allowed_origins.iter().enumerate() {
            if !is_origin(origin) {
                return Err(DefinitionError::invalid(
                    format!("allowed_origins[{idx}]"),
                    format!(
                        "an origin is a scheme and host such as https://portal.example.com, with no path, got {origin:?}"
                    ),
                ));
            }
        }

        let mut topic_ids = BTreeSet::new();
        for (idx, topic) in self.topics.iter().enumerate() {
            if !topic_ids.insert(&topic.id) {
                return Err(DefinitionError::invalid(
                    format!("topics[{idx}].id"),
                    format!("duplicate topic id `{}`", topic.id),
                ));
            }
            check_text(&format!("topics[{idx}].label"), &topic.label)?;
            if topic.keywords.is_empty()
                || topic
                    .keywords
                    .iter()
                    .any(|keyword| keyword.trim().is_empty())
            {
                return Err(DefinitionError::invalid(
                    format!("topics[{idx}].keywords"),
                    "keywords must be non-empty words",
                ));
            }
        }
        Ok(())
    }

    fn validate_thresholds(&self) -> Result<(), DefinitionError> {
        let CategoryThresholds {
            ambassador,
            ambivalent,
            stalker,
        } = self.thresholds;
        for (name, value) in [
            ("ambassador", ambassador),
            ("ambivalent", ambivalent),
            ("stalker", stalker),
        ] {
            if !(1.0..=7.0).contains(&value) {
                return Err(DefinitionError::invalid(
                    format!("thresholds.{name}"),
                    format!("threshold must be within 1..=7, got {value}"),
                ));
            }
        }
        if !(ambassador > ambivalent && ambivalent > stalker) {
            return Err(DefinitionError::invalid(
                "thresholds",
                "thresholds must satisfy ambassador > ambivalent > stalker",
            ));
        }
        Ok(())
    }

    /// The question with this id.
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions
            .iter()
            .find(|question| question.id().as_str() == id)
    }

    /// The NPS question, if the survey has one.
    pub fn nps_question(&self) -> Option<&Question> {
        self.questions
            .iter()
            .find(|question| matches!(question, Question::Nps { .. }))
    }

    /// The role question, if the survey has one.
    pub fn role_question(&self) -> Option<&Question> {
        self.questions
            .iter()
            .find(|question| matches!(question, Question::Role { .. }))
    }

    /// Every locale in which the title is written.
    pub fn locales(&self) -> BTreeSet<Locale> {
        self.title.locales().cloned().collect()
    }
}

fn is_origin(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
    else {
        return false;
    };
    !rest.is_empty()
        && origin.len() <= 200
        && rest
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '-' | ':' | '[' | ']'))
}

fn check_text(field: &str, text: &Text) -> Result<(), DefinitionError> {
    match text.0.get(&Locale::english()) {
        Some(english) if !english.trim().is_empty() => {}
        _ => {
            return Err(DefinitionError::invalid(
                field,
                "English (`en`) wording is required",
            ));
        }
    }
    if let Some((locale, _)) = text.0.iter().find(|(_, wording)| wording.trim().is_empty()) {
        return Err(DefinitionError::invalid(
            format!("{field}.{locale}"),
            "wording must not be empty",
        ));
    }
    Ok(())
}

fn check_options(field: &str, options: &[ChoiceOption]) -> Result<(), DefinitionError> {
    if options.is_empty() {
        return Err(DefinitionError::invalid(
            format!("{field}.options"),
            "at least one option is required",
        ));
    }
    let mut seen = BTreeSet::new();
    for (idx, option) in options.iter().enumerate() {
        if !seen.insert(&option.id) {
            return Err(DefinitionError::invalid(
                format!("{field}.options[{idx}].id"),
                format!("duplicate option id `{}`", option.id),
            ));
        }
        check_text(&format!("{field}.options[{idx}].label"), &option.label)?;
    }
    Ok(())
}
