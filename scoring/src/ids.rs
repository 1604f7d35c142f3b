//! Validated identifier newtypes.
//!
//! Every identifier that crosses a boundary (a survey file, the wire, a URL) is checked
//! when it is built, so the rest of the crate never sees an empty, oversized or
//! ill-formed name. This module must stay free of any survey logic.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string was refused as an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{kind} must be 1..={max} characters of a-z, 0-9, '-' or '_' starting with a letter or digit, got {value:?}"
)]
pub struct IdError {
    /// Which kind of identifier was being built.
    pub kind: &'static str,
    /// The longest accepted length.
    pub max: usize,
    /// The refused input, cut to 80 characters.
    pub value: String,
}

fn check_slug(kind: &'static str, max: usize, value: &str) -> Result<(), IdError> {
    let bytes = value.as_bytes();
    let well_formed = !bytes.is_empty()
        && bytes.len() <= max
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-' || *b == b'_');
    if well_formed {
        Ok(())
    } else {
        Err(IdError {
            kind,
            max,
            value: value.chars().take(80).collect(),
        })
    }
}

macro_rules! slug_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal, $max:literal, $pattern:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Builds the identifier, refusing anything that is not a short lowercase slug.
            pub fn new(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                check_slug($kind, $max, &value)?;
                Ok(Self(value))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::new(value)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;
            fn try_from(value: &str) -> Result<Self, IdError> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.0)
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        #[cfg(feature = "schema")]
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "pattern": $pattern,
                    "description": concat!("A ", $kind, ": a short lowercase slug.")
                })
            }
        }
    };
}

slug_id!(
    /// The id of a survey, such as `client-portal`. Stable across versions of the survey.
    SurveyId, "survey id", 64, "^[a-z0-9][a-z0-9_-]{0,63}$"
);
slug_id!(
    /// The id of a question within a survey, such as `nps` or `trust`. Answers are keyed by it.
    QuestionId, "question id", 64, "^[a-z0-9][a-z0-9_-]{0,63}$"
);
slug_id!(
    /// The id of a level of the relationship-quality pyramid, such as `relationship`.
    LevelId, "level id", 64, "^[a-z0-9][a-z0-9_-]{0,63}$"
);
slug_id!(
    /// The id of an option of a choice or role question, such as `decision-maker`.
    OptionId, "option id", 64, "^[a-z0-9][a-z0-9_-]{0,63}$"
);
slug_id!(
    /// The id of an open-text topic, such as `responsiveness`.
    TopicId, "topic id", 64, "^[a-z0-9][a-z0-9_-]{0,63}$"
);

/// A language tag such as `en`, `fr` or `pt-BR`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Locale(String);

/// Why a string was refused as a locale.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("locale must look like `en` or `pt-BR`, got {0:?}")]
pub struct LocaleError(pub String);

impl Locale {
    /// Builds a locale from a BCP 47-style tag: a 2–3 letter lowercase language, then
    /// optional `-`-separated alphanumeric subtags.
    pub fn new(value: impl Into<String>) -> Result<Self, LocaleError> {
        let value = value.into();
        let mut parts = value.split('-');
        let language = parts.next().unwrap_or_default();
        let language_ok =
            (2..=3).contains(&language.len()) && language.bytes().all(|b| b.is_ascii_lowercase());
        let subtags_ok = parts.all(|part| {
            (2..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if language_ok && subtags_ok && value.len() <= 35 {
            Ok(Self(value))
        } else {
            Err(LocaleError(value.chars().take(40).collect()))
        }
    }

    /// English, the locale every survey must provide.
    pub fn english() -> Self {
        Self("en".to_owned())
    }

    /// The tag as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The primary language subtag: `pt` for `pt-BR`.
    pub fn language(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }
}

impl TryFrom<String> for Locale {
    type Error = LocaleError;
    fn try_from(value: String) -> Result<Self, LocaleError> {
        Self::new(value)
    }
}

impl From<Locale> for String {
    fn from(locale: Locale) -> String {
        locale.0
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Locale {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Locale".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
            "description": "A language tag such as `en` or `pt-BR`."
        })
    }
}

/// The client-generated id of one response: a UUID in its canonical lowercase
/// hyphenated form. It is the idempotency key, so a resent response is recognised.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResponseId(String);

/// Why a string was refused as a response id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("response id must be a lowercase hyphenated UUID, got {0:?}")]
pub struct ResponseIdError(pub String);

impl ResponseId {
    /// Builds a response id, accepting only the canonical `8-4-4-4-12` lowercase hex form.
    pub fn new(value: impl Into<String>) -> Result<Self, ResponseIdError> {
        let value = value.into();
        let bytes = value.as_bytes();
        let well_formed = bytes.len() == 36
            && bytes.iter().enumerate().all(|(idx, b)| match idx {
                8 | 13 | 18 | 23 => *b == b'-',
                _ => b.is_ascii_digit() || (b'a'..=b'f').contains(b),
            });
        if well_formed {
            Ok(Self(value))
        } else {
            Err(ResponseIdError(value.chars().take(40).collect()))
        }
    }

    /// Builds a version-4 style id from 16 random bytes supplied by the caller, who owns the
    /// randomness source (the browser's crypto, or the operating system's).
    pub fn from_random_bytes(mut bytes: [u8; 16]) -> Self {
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let mut text = String::with_capacity(36);
        for (idx, byte) in bytes.iter().enumerate() {
            if matches!(idx, 4 | 6 | 8 | 10) {
                text.push('-');
            }
            text.push_str(&format!("{byte:02x}"));
        }
        Self(text)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ResponseId {
    type Error = ResponseIdError;
    fn try_from(value: String) -> Result<Self, ResponseIdError> {
        Self::new(value)
    }
}

impl From<ResponseId> for String {
    fn from(id: ResponseId) -> String {
        id.0
    }
}

impl fmt::Display for ResponseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for ResponseId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ResponseId".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
            "description": "Client-generated UUID; the idempotency key of the response."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_refuse_uppercase_empty_and_long() {
        assert!(QuestionId::new("trust").is_ok());
        assert!(QuestionId::new("kept-informed_2").is_ok());
        assert!(QuestionId::new("").is_err());
        assert!(QuestionId::new("Trust").is_err());
        assert!(QuestionId::new("-trust").is_err());
        assert!(QuestionId::new("a".repeat(65)).is_err());
        let err = SurveyId::new("x y").unwrap_err();
        assert_eq!(
            err.to_string(),
            "survey id must be 1..=64 characters of a-z, 0-9, '-' or '_' starting with a letter or digit, got \"x y\""
        );
    }

    #[test]
    fn ids_honour_width_and_alignment() {
        assert_eq!(
            format!("[{:<8}]", LevelId::new("service").unwrap()),
            "[service ]"
        );
        assert_eq!(format!("[{:>4}]", Locale::new("fr").unwrap()), "[  fr]");
    }

    #[test]
    fn locales() {
        assert_eq!(Locale::new("pt-BR").unwrap().language(), "pt");
        assert!(Locale::new("EN").is_err());
        assert!(Locale::new("e").is_err());
        assert!(Locale::new("en-").is_err());
    }

    #[test]
    fn response_ids_are_canonical_uuids() {
        let id = ResponseId::from_random_bytes([0xab; 16]);
        assert_eq!(id.as_str(), "abababab-abab-4bab-abab-abababababab");
        assert!(ResponseId::new(id.as_str()).is_ok());
        assert!(ResponseId::new("ABABABAB-ABAB-4BAB-ABAB-ABABABABABAB").is_err());
        assert!(ResponseId::new("abababab-abab-4bab-abab-ababababab").is_err());
    }
}
