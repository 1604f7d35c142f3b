//! The report entry: the compact, fixed-meaning bytes a report needs from one response.
//!
//! A report never needs a response's answers as text. It needs the 0–10 answer, every
//! rating by position, the confidentiality choice, which topics the strength and weakness
//! texts mention, and the options chosen in role and choice questions. The server encodes
//! these once, at ingest, into a few bytes stored beside the answers, so a report over a
//! million responses reads and decodes bytes instead of parsing a million JSON documents.
//!
//! Every position in an entry refers to the survey version it answered, whose definition
//! never changes once stored. The layout (format 1), for a version with `R` rated items, `T`
//! topics and `C` role or choice questions:
//!
//! | bytes | meaning |
//! |---|---|
//! | 1 | format, `1` |
//! | 1 | the 0–10 answer, or 255 when unanswered |
//! | 1 | confidentiality: 0 anonymous, 1 confidential, 2 identified |
//! | `R` | ratings 1–7 in the rated-item order of [`Scorer`], 0 when unanswered |
//! | `⌈T/8⌉` | topics the strength texts mention, one bit per topic in definition order |
//! | `⌈T/8⌉` | topics the weakness texts mention |
//! | per choice question | a count `k` (u16, little-endian), then `k` option indices (u16 each), in the order chosen |
//!
//! [`EntryLayout::decode`] checks every byte against the version and refuses anything else,
//! so a damaged or foreign entry is never counted: the caller falls back to the answers.

use crate::answer::Answers;
use crate::definition::{Question, SurveyDefinition, TextPurpose};
use crate::ids::{OptionId, QuestionId};
use crate::mention::mentions_lowered;
use crate::score::{NO_NPS, NO_RATING, Observation, Scorer};
use crate::wire::ConfidentialityChoice;

/// The format byte of entries this version writes.
const FORMAT: u8 = 1;
/// Bytes before the ratings: format, 0–10 answer, confidentiality.
const HEADER: usize = 3;

/// Why bytes are not a valid entry of a survey version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a report entry of this survey version: {0}")]
pub struct EntryError(&'static str);

/// A role or choice question as entries hold it.
#[derive(Debug, Clone)]
struct ChoiceLayout {
    id: QuestionId,
    options: Vec<OptionId>,
}

/// A survey version compiled for encoding and decoding entries. Build one per version.
#[derive(Debug, Clone)]
pub struct EntryLayout {
    rated: Vec<QuestionId>,
    strength_ids: Vec<QuestionId>,
    weakness_ids: Vec<QuestionId>,
    /// Each topic's keywords, trimmed and lowercased.
    topic_keywords: Vec<Vec<String>>,
    choices: Vec<ChoiceLayout>,
}

/// One decoded entry. Chosen options stay encoded: [`Entry::choices`] yields the bytes of each
/// question's choice, which equal exactly when the choices do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The 0–10 answer, ratings and confidentiality.
    pub observation: Observation,
    /// Topics the strength texts mention, as a bit set over topic positions.
    pub strengths: &'a [u8],
    /// Topics the weakness texts mention.
    pub weaknesses: &'a [u8],
    /// The checked choice section: per question, a count and option indices.
    choice_bytes: &'a [u8],
}

impl<'a> Entry<'a> {
    /// The encoded choice of each role or choice question, in definition order: a count and
    /// option indices, for [`EntryLayout::choice_value`].
    pub fn choices(&self) -> impl Iterator<Item = &'a [u8]> {
        let bytes = self.choice_bytes;
        let mut at = 0;
        std::iter::from_fn(move || {
            let count = usize::from(read_u16(bytes, at)?);
            let end = at + 2 + 2 * count;
            let choice = bytes.get(at..end)?;
            at = end;
            Some(choice)
        })
    }

    /// The encoded choice of the `idx`-th role or choice question; empty beyond the last.
    pub fn choice(&self, idx: usize) -> &'a [u8] {
        self.choices().nth(idx).unwrap_or_default()
    }
}

impl EntryLayout {
    /// Compiles a validated definition.
    pub fn new(definition: &SurveyDefinition) -> Self {
        let scorer = Scorer::new(definition);
        let texts = |wanted: TextPurpose| -> Vec<QuestionId> {
            definition
                .questions
                .iter()
                .filter_map(|question| match question {
                    Question::Text { id, purpose, .. } if *purpose == wanted => Some(id.clone()),
                    _ => None,
                })
                .collect()
        };
        EntryLayout {
            rated: scorer.rated_ids().to_vec(),
            strength_ids: texts(TextPurpose::Strength),
            weakness_ids: texts(TextPurpose::Weakness),
            topic_keywords: definition
                .topics
                .iter()
                .map(|topic| {
                    topic
                        .keywords
                        .iter()
                        .map(|keyword| keyword.trim().to_lowercase())
                        .collect()
                })
                .collect(),
            choices: definition
                .questions
                .iter()
                .filter_map(|question| match question {
                    Question::Role { id, options, .. } | Question::Choice { id, options, .. } => {
                        Some(ChoiceLayout {
                            id: id.clone(),
                            options: options.iter().map(|option| option.id.clone()).collect(),
                        })
                    }
                    _ => None,
                })
                .collect(),
        }
    }

    /// Bytes of each topic bit set: one bit per topic.
    pub fn topic_bytes(&self) -> usize {
        self.topic_keywords.len().div_ceil(8)
    }

    /// How many rated items an observation of this version holds.
    pub(crate) fn rated_len(&self) -> usize {
        self.rated.len()
    }

    /// The rated items, in observation order.
    pub(crate) fn rated(&self) -> &[QuestionId] {
        &self.rated
    }

    /// The encoded choice of the `idx`-th role or choice question that chose `options` (by
    /// id; ids this version does not offer are left out), as [`Entry::choices`] yields it.
    pub(crate) fn encode_choice<'o>(
        &self,
        idx: usize,
        options: impl Iterator<Item = &'o str>,
    ) -> Vec<u8> {
        let offered = self
            .choices
            .get(idx)
            .map(|choice| choice.options.as_slice())
            .unwrap_or_default();
        let chosen: Vec<u16> = options
            .filter_map(|option| offered.iter().position(|id| id.as_str() == option))
            .map(|position| position as u16)
            .collect();
        let mut bytes = Vec::with_capacity(2 + 2 * chosen.len());
        bytes.extend((chosen.len() as u16).to_le_bytes());
        for position in chosen {
            bytes.extend(position.to_le_bytes());
        }
        bytes
    }

    /// How many topics the version defines.
    pub fn n_topics(&self) -> usize {
        self.topic_keywords.len()
    }

    /// The role and choice questions entries describe, in entry order.
    pub fn choice_questions(&self) -> impl Iterator<Item = &QuestionId> {
        self.choices.iter().map(|choice| &choice.id)
    }

    /// The entry of a validated response to this version.
    pub fn encode(&self, answers: &Answers, confidentiality: ConfidentialityChoice) -> Vec<u8> {
        let topic_bytes = self.topic_bytes();
        let mut bytes = Vec::with_capacity(
            HEADER + self.rated.len() + 2 * topic_bytes + 2 * self.choices.len(),
        );
        bytes.push(FORMAT);
        bytes.push(answers.nps.map_or(NO_NPS, |answer| answer.get()));
        bytes.push(confidentiality as u8);
        bytes.extend(self.rated.iter().map(|id| {
            answers
                .ratings
                .get(id)
                .map_or(NO_RATING, |rating| rating.get())
        }));
        for ids in [&self.strength_ids, &self.weakness_ids] {
            let texts: Vec<String> = ids
                .iter()
                .filter_map(|id| answers.texts.get(id))
                .map(|text| text.to_lowercase())
                .collect();
            let mut bits = vec![0u8; topic_bytes];
            for (topic_idx, keywords) in self.topic_keywords.iter().enumerate() {
                if texts.iter().any(|text| mentions_lowered(text, keywords)) {
                    bits[topic_idx / 8] |= 1 << (topic_idx % 8);
                }
            }
            bytes.extend(bits);
        }
        for choice in &self.choices {
            let chosen: Vec<u16> = answers
                .choices
                .get(&choice.id)
                .map(|chosen| {
                    chosen
                        .iter()
                        .filter_map(|option| {
                            choice.options.iter().position(|offered| offered == option)
                        })
                        .map(|idx| idx as u16)
                        .collect()
                })
                .unwrap_or_default();
            bytes.extend((chosen.len() as u16).to_le_bytes());
            for idx in chosen {
                bytes.extend(idx.to_le_bytes());
            }
        }
        bytes
    }

    /// Decodes an entry of this version, checking every byte.
    pub fn decode<'a>(&self, bytes: &'a [u8]) -> Result<Entry<'a>, EntryError> {
        let rated_end = HEADER + self.rated.len();
        let topic_bytes = self.topic_bytes();
        let topics_end = rated_end + 2 * topic_bytes;
        if bytes.len() < topics_end {
            return Err(EntryError("too short"));
        }
        if bytes[0] != FORMAT {
            return Err(EntryError("unknown format"));
        }
        let nps = bytes[1];
        if nps > 10 && nps != NO_NPS {
            return Err(EntryError("0–10 answer out of range"));
        }
        let confidentiality = match bytes[2] {
            0 => ConfidentialityChoice::Anonymous,
            1 => ConfidentialityChoice::Confidential,
            2 => ConfidentialityChoice::Identified,
            _ => return Err(EntryError("unknown confidentiality")),
        };
        let mut ratings = [NO_RATING; crate::definition::MAX_RATED_ITEMS];
        for (slot, rating) in ratings.iter_mut().zip(&bytes[HEADER..rated_end]) {
            if *rating > 7 {
                return Err(EntryError("rating out of range"));
            }
            *slot = *rating;
        }
        let (strengths, weaknesses) = bytes[rated_end..topics_end].split_at(topic_bytes);
        let unused_bits = topic_bytes * 8 - self.topic_keywords.len();
        if unused_bits > 0
            && [strengths, weaknesses]
                .iter()
                .any(|bits| bits[topic_bytes - 1] >> (8 - unused_bits) != 0)
        {
            return Err(EntryError("topic beyond the survey's topics"));
        }
        let choice_bytes = &bytes[topics_end..];
        let mut at = 0usize;
        for choice in &self.choices {
            let count = read_u16(choice_bytes, at).ok_or(EntryError("choice count missing"))?;
            let end = at + 2 + 2 * usize::from(count);
            if end > choice_bytes.len() || usize::from(count) > choice.options.len() {
                return Err(EntryError("choice longer than the options offered"));
            }
            for option_at in (at + 2..end).step_by(2) {
                if usize::from(read_u16(choice_bytes, option_at).unwrap_or(u16::MAX))
                    >= choice.options.len()
                {
                    return Err(EntryError("option beyond those offered"));
                }
            }
            at = end;
        }
        if at != choice_bytes.len() {
            return Err(EntryError("trailing bytes"));
        }
        Ok(Entry {
            observation: Observation {
                nps,
                ratings,
                confidentiality,
            },
            strengths,
            weaknesses,
            choice_bytes,
        })
    }

    /// The segment value of an encoded choice of the `idx`-th choice question: the chosen
    /// option ids joined by `+`, or `None` when nothing was chosen.
    pub fn choice_value(&self, idx: usize, encoded: &[u8]) -> Option<String> {
        let choice = self.choices.get(idx)?;
        let chosen: Vec<&str> = (2..encoded.len())
            .step_by(2)
            .filter_map(|at| read_u16(encoded, at))
            .filter_map(|option_idx| choice.options.get(usize::from(option_idx)))
            .map(|option| option.as_str())
            .collect();
        (!chosen.is_empty()).then(|| chosen.join("+"))
    }
}

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::template;
    use crate::validate::validate;

    /// A definition with every kind of question, a multiple choice among them.
    fn definition() -> SurveyDefinition {
        let mut definition = template("legal-contract-experience").expect("template");
        let (text, options) = definition
            .questions
            .iter()
            .find_map(|question| match question {
                Question::Role { text, options, .. } => Some((text.clone(), options.clone())),
                _ => None,
            })
            .expect("a role question");
        definition.questions.push(Question::Choice {
            id: QuestionId::new("areas").expect("id"),
            text,
            options,
            multiple: true,
            required: false,
        });
        definition.validate().expect("valid definition");
        definition
    }

    fn layout_and_answers() -> (EntryLayout, Answers) {
        let definition = definition();
        let layout = EntryLayout::new(&definition);
        let mut answers = serde_json::Map::new();
        for question in &definition.questions {
            let value = match question {
                Question::Nps { .. } => serde_json::json!(3),
                Question::Element { .. } => serde_json::json!(6),
                Question::Experience { .. } => serde_json::json!(2),
                Question::Text {
                    purpose: TextPurpose::Weakness,
                    ..
                } => serde_json::json!("Slow to respond, and the COST was high"),
                Question::Text { .. } => serde_json::json!("Friendly people"),
                Question::Role { options, .. } => serde_json::json!(options[1].id.as_str()),
                Question::Choice {
                    options,
                    multiple: true,
                    ..
                } => serde_json::json!([options[2].id.as_str(), options[0].id.as_str()]),
                Question::Choice { options, .. } => serde_json::json!(options[0].id.as_str()),
            };
            answers.insert(question.id().to_string(), value);
        }
        let body = serde_json::json!({
            "format": 1,
            "response_id": "6b0d5b4e-2f1c-4a57-9f0e-6a8f7f0a1c2d",
            "survey_id": definition.id.as_str(),
            "survey_version": definition.version,
            "submitted_at": "2026-11-23T10:00:00Z",
            "confidentiality": "confidential",
            "answers": answers,
        });
        let valid =
            validate(&definition, &serde_json::from_value(body).expect("wire")).expect("valid");
        (layout, valid.answers)
    }

    #[test]
    fn an_entry_decodes_to_what_the_answers_say() {
        let definition = definition();
        let (layout, answers) = layout_and_answers();
        let bytes = layout.encode(&answers, ConfidentialityChoice::Confidential);
        let entry = layout.decode(&bytes).expect("decodes");
        assert_eq!(
            entry.observation,
            Scorer::new(&definition).observe(&answers, ConfidentialityChoice::Confidential)
        );
        for (idx, id) in layout.choice_questions().enumerate() {
            let expected = answers.choices.get(id).map(|chosen| {
                chosen
                    .iter()
                    .map(|option| option.as_str())
                    .collect::<Vec<_>>()
                    .join("+")
            });
            assert_eq!(
                layout.choice_value(idx, entry.choice(idx)),
                expected,
                "choice {id}"
            );
        }
        let mentioned = |bits: &[u8]| -> Vec<String> {
            definition
                .topics
                .iter()
                .enumerate()
                .filter(|(idx, _)| bits[idx / 8] >> (idx % 8) & 1 == 1)
                .map(|(_, topic)| topic.id.to_string())
                .collect()
        };
        assert_eq!(
            layout
                .choice_value(1, entry.choice(1))
                .as_deref()
                .map(|value| value.matches('+').count()),
            Some(1),
            "both choices, in order"
        );
        assert!(!mentioned(entry.strengths).is_empty() || !mentioned(entry.weaknesses).is_empty());
        let weakness_topics = mentioned(entry.weaknesses);
        for topic in &definition.topics {
            let texts: Vec<&String> = layout
                .weakness_ids
                .iter()
                .filter_map(|id| answers.texts.get(id))
                .collect();
            let expected = texts
                .iter()
                .any(|text| crate::mention::mentions(text, &topic.keywords));
            assert_eq!(
                weakness_topics.contains(&topic.id.to_string()),
                expected,
                "weakness topic {}",
                topic.id
            );
        }
    }

    #[test]
    fn damaged_entries_are_refused_byte_by_byte() {
        let (layout, answers) = layout_and_answers();
        let bytes = layout.encode(&answers, ConfidentialityChoice::Identified);
        assert!(layout.decode(&bytes).is_ok());
        assert!(
            layout.decode(&bytes[..bytes.len() - 1]).is_err(),
            "truncated"
        );
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(layout.decode(&longer).is_err(), "trailing byte");
        for (at, bad) in [(0, 2u8), (1, 11), (2, 3), (HEADER, 8)] {
            let mut damaged = bytes.clone();
            damaged[at] = bad;
            assert!(layout.decode(&damaged).is_err(), "byte {at} set to {bad}");
        }
        assert!(layout.decode(&[]).is_err());
    }
}
