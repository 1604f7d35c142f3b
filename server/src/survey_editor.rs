//! Editing a survey from the dashboard: a new survey from a built-in template, and a new
//! version from a form of its texts in every language and its settings.
//!
//! The editor never checks a definition itself: every edit becomes a whole
//! `SurveyDefinition` that `scoring::definition` validates, and its errors come back with the
//! field they are about, so the dashboard shows the same rules, in the same words, as
//! `rapport survey add`. Saving stores a new version; a stored version never changes.
//!
//! Texts are found generically: in the definition's JSON, every object whose keys are all
//! locales and whose values are all strings is a text (a survey title, a question, a scale
//! end, an option, a level or topic name). A form field names one by its JSON Pointer and a
//! locale, so the form keeps working whatever questions a survey holds.

use std::collections::{BTreeMap, BTreeSet};

use rapport_scoring::SurveyDefinition;
use rapport_scoring::definition::DefinitionError;
use rapport_scoring::ids::{Locale, SurveyId};
use serde_json::Value;

use crate::store::{AddOutcome, Store, SurveyChange};

/// One text of a survey, in every language it is written in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextField {
    /// Where it is in the definition's JSON (`/questions/2/text`).
    pub pointer: String,
    /// What it is, in words (`Question 3 (trust)`).
    pub label: String,
    /// Its wording by locale.
    pub texts: BTreeMap<String, String>,
}

/// Why an edit was refused: the field it is about (as `scoring` names it, or a form
/// field's name) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct EditError {
    /// The field.
    pub field: String,
    /// What is wrong, in words.
    pub message: String,
}

impl EditError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        EditError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<DefinitionError> for EditError {
    fn from(error: DefinitionError) -> Self {
        match error {
            DefinitionError::Invalid { field, message } => EditError { field, message },
            DefinitionError::Parse { field, message, .. } => EditError { field, message },
        }
    }
}

/// The JSON Pointer of a field as `scoring` names it: `questions[2].text` is
/// `/questions/2/text`, so an error can be shown beside the text it is about.
pub fn pointer_of(field: &str) -> String {
    let mut pointer = String::new();
    for part in field.split('.').filter(|part| !part.is_empty()) {
        for piece in part.split('[') {
            let piece = piece.trim_end_matches(']');
            if !piece.is_empty() {
                pointer.push('/');
                pointer.push_str(piece);
            }
        }
    }
    pointer
}

/// A form posted by the editor: its fields in order, as `(name, value)`.
///
/// - `text|{pointer}|{locale}`: a text's wording in one language (empty: not translated);
/// - `keywords|{pointer}`: a topic's keywords, separated by commas;
/// - `remove_topic|{pointer}`: present when the topic at `pointer` is to be removed;
/// - `new_topic_name` and `new_topic_keywords`: a topic to add (its id is made from its
///   name, its name is in the survey's first language);
/// - `confidentiality`, `min_group_size`, `allowed_origins` (one per line),
///   `require_signed_context` (`yes` or `no`).
pub type EditForm = Vec<(String, String)>;

/// Whether `text` has the form of a locale tag.
fn is_locale(text: &str) -> bool {
    Locale::new(text.to_owned()).is_ok()
}

fn is_text(value: &Value) -> bool {
    value.as_object().is_some_and(|map| {
        !map.is_empty()
            && map
                .iter()
                .all(|(key, value)| is_locale(key) && value.is_string())
    })
}

fn collect(value: &Value, pointer: &str, found: &mut Vec<(String, BTreeMap<String, String>)>) {
    if is_text(value) {
        let texts = value
            .as_object()
            .into_iter()
            .flatten()
            .map(|(locale, text)| (locale.clone(), text.as_str().unwrap_or_default().to_owned()))
            .collect();
        found.push((pointer.to_owned(), texts));
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                collect(child, &format!("{pointer}/{key}"), found);
            }
        }
        Value::Array(items) => {
            for (idx, child) in items.iter().enumerate() {
                collect(child, &format!("{pointer}/{idx}"), found);
            }
        }
        _ => {}
    }
}

/// What the text at `pointer` is, in words.
fn describe(json: &Value, pointer: &str) -> String {
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let id_at = |collection: &str, idx: &str| {
        json.pointer(&format!("/{collection}/{idx}/id"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    fn what(field: &str) -> &str {
        match field {
            "text" => "question",
            "low_label" => "label of the low end",
            "high_label" => "label of the high end",
            "label" => "name",
            other => other,
        }
    }
    match parts.as_slice() {
        ["title"] => "Survey title".to_owned(),
        ["questions", idx, field] => format!(
            "Question {} ({}): {}",
            idx.parse::<usize>().map_or(0, |idx| idx + 1),
            id_at("questions", idx),
            what(field)
        ),
        ["questions", idx, "options", option, _] => {
            let option_id = json
                .pointer(&format!("/questions/{idx}/options/{option}/id"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            format!(
                "Question {} ({}): option {option_id}",
                idx.parse::<usize>().map_or(0, |idx| idx + 1),
                id_at("questions", idx)
            )
        }
        ["levels", idx, _] => format!("Relationship level {}: name", id_at("levels", idx)),
        ["topics", idx, _] => format!("Topic {}: name", id_at("topics", idx)),
        _ => pointer.to_owned(),
    }
}

fn reading_order(pointer: &str) -> (u8, usize, u8, usize) {
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let number = |idx: usize| {
        parts
            .get(idx)
            .and_then(|part| part.parse().ok())
            .unwrap_or(0)
    };
    let section = match parts.first().copied() {
        Some("title") => 0,
        Some("questions") => 1,
        Some("levels") => 2,
        Some("topics") => 3,
        _ => 4,
    };
    let field = match parts.get(2).copied() {
        Some("text") => 0,
        Some("low_label") => 1,
        Some("high_label") => 2,
        Some("options") => 3,
        _ => 4,
    };
    (section, number(1), field, number(3))
}

/// Every text of `definition`, in the order a respondent reads them.
pub fn text_fields(definition: &SurveyDefinition) -> Vec<TextField> {
    let json = serde_json::to_value(definition).unwrap_or(Value::Null);
    let mut found = Vec::new();
    collect(&json, "", &mut found);
    // In the order a respondent meets them: the title, then each question's wording, scale
    // ends and options, then the names of levels and topics.
    found.sort_by_key(|(pointer, _)| reading_order(pointer));
    found
        .into_iter()
        .map(|(pointer, texts)| TextField {
            label: describe(&json, &pointer),
            pointer,
            texts,
        })
        .collect()
}

/// The languages the survey is written in (any text has them), English first, then
/// `extra` (a language being added).
pub fn locales(definition: &SurveyDefinition, extra: Option<&str>) -> Vec<String> {
    let mut all: BTreeSet<String> = text_fields(definition)
        .into_iter()
        .flat_map(|field| field.texts.into_keys())
        .collect();
    if let Some(extra) = extra.filter(|extra| is_locale(extra)) {
        all.insert(extra.to_owned());
    }
    let english = all.take("en");
    english.into_iter().chain(all).collect()
}

/// The definition `form` makes of `definition`: its texts, keywords and settings replaced,
/// checked by `scoring`'s rules. Fields the form does not name stay as they were.
pub fn apply(
    definition: &SurveyDefinition,
    form: &EditForm,
) -> Result<SurveyDefinition, EditError> {
    let (json, new_topic_problem) = edited_json(definition, form)?;
    if let Some(problem) = new_topic_problem {
        return Err(problem);
    }
    // A text left with no language at all would not parse as a text: name it instead.
    for field in text_fields(definition) {
        if json
            .pointer(&field.pointer)
            .and_then(Value::as_object)
            .is_some_and(serde_json::Map::is_empty)
        {
            return Err(EditError::new(
                format!("text|{}|en", field.pointer),
                format!("{} needs a wording in at least one language", field.label),
            ));
        }
    }
    Ok(SurveyDefinition::from_json(&json.to_string())?)
}

/// The form over `definition` as typed, unchecked, to show a refused form again without
/// losing what was typed; `definition` itself when the form does not even have its shape.
pub fn as_typed(definition: &SurveyDefinition, form: &EditForm) -> SurveyDefinition {
    edited_json(definition, form)
        .ok()
        .and_then(|(json, _)| serde_json::from_value(json).ok())
        .unwrap_or_else(|| definition.clone())
}

/// The definition's JSON with `form` applied, before `scoring` checks it, and what is wrong
/// with the topic the form adds (which is then left out), if anything.
fn edited_json(
    definition: &SurveyDefinition,
    form: &EditForm,
) -> Result<(Value, Option<EditError>), EditError> {
    let mut json =
        serde_json::to_value(definition).map_err(|error| EditError::new(".", error.to_string()))?;
    let known: BTreeSet<String> = text_fields(definition)
        .into_iter()
        .map(|field| field.pointer)
        .collect();
    let mut removed_topics = BTreeSet::new();
    let mut new_topic = ("", "");
    for (name, value) in form {
        let mut parts = name.splitn(3, '|');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("text"), Some(pointer), Some(locale)) => {
                if !known.contains(pointer) || !is_locale(locale) {
                    return Err(EditError::new(
                        name.as_str(),
                        "is not a text of this survey",
                    ));
                }
                let Some(Value::Object(texts)) = json.pointer_mut(pointer) else {
                    return Err(EditError::new(
                        name.as_str(),
                        "is not a text of this survey",
                    ));
                };
                let value = value.trim();
                if value.is_empty() {
                    texts.remove(locale);
                } else {
                    texts.insert(locale.to_owned(), Value::String(value.to_owned()));
                }
            }
            (Some("keywords"), Some(pointer), None) => {
                let Some(Value::Array(keywords)) = json.pointer_mut(pointer) else {
                    return Err(EditError::new(
                        name.as_str(),
                        "is not a topic of this survey",
                    ));
                };
                *keywords = value
                    .split(',')
                    .map(str::trim)
                    .filter(|keyword| !keyword.is_empty())
                    .map(|keyword| Value::String(keyword.to_owned()))
                    .collect();
            }
            (Some("remove_topic"), Some(pointer), None) => {
                let index = pointer
                    .strip_prefix("/topics/")
                    .and_then(|index| index.parse::<usize>().ok())
                    .filter(|index| *index < definition.topics.len())
                    .ok_or_else(|| {
                        EditError::new(name.as_str(), "is not a topic of this survey")
                    })?;
                removed_topics.insert(index);
            }
            (Some("new_topic_name"), None, None) => new_topic.0 = value.trim(),
            (Some("new_topic_keywords"), None, None) => new_topic.1 = value.trim(),
            (Some("confidentiality"), None, None) => {
                json["confidentiality"] = Value::String(value.trim().to_owned());
            }
            (Some("min_group_size"), None, None) => {
                let size: u32 = value.trim().parse().map_err(|_| {
                    EditError::new("min_group_size", "must be a whole number, such as 5")
                })?;
                json["min_group_size"] = Value::from(size);
            }
            (Some("require_signed_context"), None, None) => {
                json["require_signed_context"] = Value::Bool(value.trim() == "yes");
            }
            (Some("allowed_origins"), None, None) => {
                json["allowed_origins"] = value
                    .lines()
                    .map(str::trim)
                    .filter(|origin| !origin.is_empty())
                    .map(|origin| Value::String(origin.to_owned()))
                    .collect();
            }
            _ => {}
        }
    }
    // Removed after every other field is applied, highest first, so that the pointers the
    // form named stay right until then.
    if let Some(Value::Array(topics)) = json.get_mut("topics") {
        for index in removed_topics.iter().rev() {
            topics.remove(*index);
        }
    }
    let new_topic = match new_topic_json(definition, &json, new_topic) {
        Ok(Some(topic)) => {
            match json.get_mut("topics") {
                Some(Value::Array(topics)) => topics.push(topic),
                _ => json["topics"] = Value::Array(vec![topic]),
            }
            None
        }
        Ok(None) => None,
        Err(problem) => Some(problem),
    };
    Ok((json, new_topic))
}

/// The topic the form adds, as JSON, or `None` when its name is left empty. Its id is its
/// name in lower case with hyphens between words; its name is written in the survey's
/// first language, and can be translated like any text once saved.
fn new_topic_json(
    definition: &SurveyDefinition,
    json: &Value,
    (name, keywords): (&str, &str),
) -> Result<Option<Value>, EditError> {
    if name.is_empty() {
        if !keywords.is_empty() {
            return Err(EditError::new(
                "new_topic_name",
                "give the new topic a name, such as Billing",
            ));
        }
        return Ok(None);
    }
    let id: String = name
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if id.is_empty() {
        return Err(EditError::new(
            "new_topic_name",
            "a topic's name needs at least one letter or digit from a to z or 0 to 9",
        ));
    }
    let taken = json
        .get("topics")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|topic| topic.get("id").and_then(Value::as_str) == Some(id.as_str()));
    if taken {
        return Err(EditError::new(
            "new_topic_name",
            format!("there is a topic called {name} already"),
        ));
    }
    let keywords: Vec<Value> = keywords
        .split(',')
        .map(str::trim)
        .filter(|keyword| !keyword.is_empty())
        .map(|keyword| Value::String(keyword.to_owned()))
        .collect();
    if keywords.is_empty() {
        return Err(EditError::new(
            "new_topic_keywords",
            "give the words that put a written answer under the new topic, separated by commas",
        ));
    }
    let language = locales(definition, None)
        .into_iter()
        .next()
        .unwrap_or_else(|| "en".to_owned());
    Ok(Some(serde_json::json!({
        "id": id,
        "label": { language: name },
        "keywords": keywords,
    })))
}

/// A new survey `id` from the built-in template `template`, at version 1.
pub fn from_template(template: &str, id: &str) -> Result<SurveyDefinition, EditError> {
    let mut definition = rapport_scoring::template(template)
        .ok_or_else(|| EditError::new("template", "choose one of the templates"))?;
    definition.id = SurveyId::new(id).map_err(|error| EditError::new("id", error.to_string()))?;
    definition.version = 1;
    definition.validate()?;
    Ok(definition)
}

/// Stores `definition` as a new survey, refusing an id that is taken.
pub async fn create(
    store: &Store,
    definition: &SurveyDefinition,
    change: SurveyChange<'_>,
) -> Result<u32, EditError> {
    if store
        .survey(definition.id.as_str(), None)
        .await
        .map_err(|error| EditError::new(".", error.to_string()))?
        .is_some()
    {
        return Err(EditError::new(
            "id",
            format!(
                "a survey called {} exists already: edit it instead",
                definition.id
            ),
        ));
    }
    save(store, definition, change)
        .await
        .map(|(version, _)| version)
}

/// Stores `definition` as the survey's next version; returns the version and whether
/// anything changed (an unchanged form stores nothing). A new version is recorded in the
/// audit log with `change`, in the same transaction.
pub async fn save(
    store: &Store,
    definition: &SurveyDefinition,
    change: SurveyChange<'_>,
) -> Result<(u32, bool), EditError> {
    match store.add_survey(definition, change).await {
        Ok(AddOutcome::Added { version }) => Ok((version, true)),
        Ok(AddOutcome::Unchanged { version }) => Ok((version, false)),
        Err(error) => Err(EditError::new(".", error.to_string())),
    }
}
