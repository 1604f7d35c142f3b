//! The response wire format, version 1: the JSON the widget posts and the server accepts.
//!
//! These types only describe the shape of the document; they carry no business rules.
//! Whether a document is acceptable for a given survey is decided by
//! [`crate::validate`](mod@crate::validate).
//! Every struct refuses unknown fields, so a typo is an error, never silently ignored.
//! The JSON Schema in `docs/wire-format-v1.schema.json` is generated from these types.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{Locale, QuestionId, ResponseId, SurveyId};
use crate::outcome::ResponseScore;

/// The only wire-format version this crate speaks.
pub const FORMAT_VERSION: u32 = 1;

/// The format marker: always `1` in this version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct FormatVersion;

/// Refusal of an unknown format version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported wire format {0}; this server speaks format 1")]
pub struct FormatVersionError(pub u32);

impl TryFrom<u32> for FormatVersion {
    type Error = FormatVersionError;
    fn try_from(value: u32) -> Result<Self, FormatVersionError> {
        if value == FORMAT_VERSION {
            Ok(FormatVersion)
        } else {
            Err(FormatVersionError(value))
        }
    }
}

impl From<FormatVersion> for u32 {
    fn from(_: FormatVersion) -> u32 {
        FORMAT_VERSION
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for FormatVersion {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FormatVersion".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "const": 1, "description": "Wire-format version; always 1." })
    }
}

/// An RFC 3339 timestamp such as `2026-11-23T09:30:00Z` or `2026-11-23T10:30:00.250+01:00`.
/// It keeps the text as sent and knows its instant in milliseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timestamp {
    text: String,
    unix_millis: i64,
}

/// Refusal of a malformed timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("timestamp must be RFC 3339 like 2026-11-23T09:30:00Z, got {0:?}")]
pub struct TimestampError(pub String);

impl Timestamp {
    /// Parses an RFC 3339 date-time with a `Z` or `±hh:mm` offset.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        parse_rfc3339(text)
            .map(|unix_millis| Timestamp {
                text: text.to_owned(),
                unix_millis,
            })
            .ok_or_else(|| TimestampError(text.chars().take(40).collect()))
    }

    /// Builds the UTC timestamp of an instant given in milliseconds since the Unix epoch.
    pub fn from_unix_millis(unix_millis: i64) -> Self {
        let days = unix_millis.div_euclid(86_400_000);
        let millis_of_day = unix_millis.rem_euclid(86_400_000);
        let (year, month, day) = civil_from_days(days);
        let text = format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
            millis_of_day / 3_600_000,
            millis_of_day / 60_000 % 60,
            millis_of_day / 1000 % 60,
            millis_of_day % 1000
        );
        Timestamp { text, unix_millis }
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(&self) -> i64 {
        self.unix_millis
    }

    /// The timestamp as sent.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl TryFrom<String> for Timestamp {
    type Error = TimestampError;
    fn try_from(value: String) -> Result<Self, TimestampError> {
        Timestamp::parse(&value)
    }
}

impl From<Timestamp> for String {
    fn from(timestamp: Timestamp) -> String {
        timestamp.text
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "format": "date-time" })
    }
}

fn digits(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        bytes
            .iter()
            .fold(0, |acc, digit| acc * 10 + i64::from(digit - b'0')),
    )
}

pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

fn parse_rfc3339(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() < 20 || bytes.len() > 40 {
        return None;
    }
    let separators_ok = bytes[4] == b'-'
        && bytes[7] == b'-'
        && matches!(bytes[10], b'T' | b't')
        && bytes[13] == b':'
        && bytes[16] == b':';
    if !separators_ok {
        return None;
    }
    let (year, month, day) = (
        digits(&bytes[0..4])?,
        digits(&bytes[5..7])?,
        digits(&bytes[8..10])?,
    );
    let (hour, minute, second) = (
        digits(&bytes[11..13])?,
        digits(&bytes[14..16])?,
        digits(&bytes[17..19])?,
    );
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month[(month - 1) as usize]
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &bytes[19..];
    let mut millis = 0;
    if rest.first() == Some(&b'.') {
        let n_fraction = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
        if n_fraction == 0 || n_fraction > 9 {
            return None;
        }
        let fraction = &rest[1..=n_fraction];
        millis = fraction
            .iter()
            .take(3)
            .enumerate()
            .map(|(idx, digit)| i64::from(digit - b'0') * [100, 10, 1][idx])
            .sum();
        rest = &rest[1 + n_fraction..];
    }
    let offset_minutes = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), hours @ .., b':', _, _] if hours.len() == 2 => {
            let offset_hours = digits(hours)?;
            let offset_mins = digits(&rest[4..6])?;
            if offset_hours > 23 || offset_mins > 59 {
                return None;
            }
            let magnitude = offset_hours * 60 + offset_mins;
            if *sign == b'-' { -magnitude } else { magnitude }
        }
        _ => return None,
    };
    let seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second.min(59)
            - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

/// What the respondent chose, or was given, about their identity.
// The declaration order is relied on by the tally, which uses the discriminant as an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum ConfidentialityChoice {
    /// An anonymous survey: no identity at all.
    Anonymous,
    /// Identity (if any) is held confidentially and never shown with the answers.
    Confidential,
    /// The respondent waived confidentiality and may be named with their answers.
    Identified,
}

impl ConfidentialityChoice {
    /// The lowercase name used on the wire and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfidentialityChoice::Anonymous => "anonymous",
            ConfidentialityChoice::Confidential => "confidential",
            ConfidentialityChoice::Identified => "identified",
        }
    }
}

/// Who answered, as the respondent typed it or as an invitation carried it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Identity {
    /// Full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
}

/// Where the response comes from: the segments an account-facing report groups by.
/// An invitation token, when present, overrides these on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Context {
    /// The client account (company) being asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The matter or contract the survey is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matter: Option<String>,
    /// The survey wave, e.g. `2026-h2`. Waves are ordered by their label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wave: Option<String>,
    /// Whether the respondent answered an earlier wave. When absent, reports derive it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returning: Option<bool>,
}

/// An answer as sent: a whole number for scales, a string for text and single choices,
/// a list of strings for multiple choice. Its meaning is checked against the survey.
pub type RawAnswer = serde_json::Value;

/// One response, as posted by the widget. Version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ResponseV1 {
    /// Always `1`.
    pub format: FormatVersion,
    /// Client-generated UUID; resending the same id is recognised, never stored twice.
    pub response_id: ResponseId,
    /// The survey answered.
    pub survey_id: SurveyId,
    /// The version of the survey answered.
    pub survey_version: u32,
    /// The locale the survey was shown in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<Locale>,
    /// Answers keyed by question id. Unanswered questions are left out.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "BTreeMap<QuestionId, SchemaAnswer>")
    )]
    #[serde(deserialize_with = "unique_answers")]
    pub answers: BTreeMap<QuestionId, RawAnswer>,
    /// The confidentiality choice.
    pub confidentiality: ConfidentialityChoice,
    /// Identity typed by the respondent; never sent for an anonymous survey.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "optional_object"
    )]
    pub identity: Option<Identity>,
    /// The signed invitation token from an email link or portal, passed through untouched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation: Option<String>,
    /// Account, matter and wave, when the host page knows them.
    #[serde(
        default,
        skip_serializing_if = "is_empty_context",
        deserialize_with = "object"
    )]
    pub context: Context,
    /// When the respondent opened the survey.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    /// When the respondent pressed submit (the widget's clock).
    pub submitted_at: Timestamp,
    /// The scores the widget computed; the server recomputes and compares them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisional: Option<ResponseScore>,
    /// The embedding portal's signature over the survey, `context.account`,
    /// `context.matter`, `identity.name` and `identity.email`: with it, the server can vouch
    /// for who answered, as an invitation does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_context: Option<SignedContext>,
}

/// A portal's signature of the context it embeds the survey in (HMAC-SHA256 under the
/// survey's portal secret; the server's reference describes the signed message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SignedContext {
    /// When the signature stops being accepted, in seconds since the Unix epoch.
    pub expires: i64,
    /// The signature, as 64 lowercase hexadecimal digits.
    pub signature: String,
}

/// The answers object, refusing a question answered twice: JSON allows duplicate keys and
/// would silently keep the last, so `{"nps": 10, "nps": 0}` could mean whatever a reader
/// picked.
fn unique_answers<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<QuestionId, RawAnswer>, D::Error> {
    struct Answers;
    impl<'de> serde::de::Visitor<'de> for Answers {
        type Value = BTreeMap<QuestionId, RawAnswer>;
        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("an object of answers keyed by question id")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut answers = BTreeMap::new();
            while let Some((question, answer)) = map.next_entry::<QuestionId, RawAnswer>()? {
                if answers.contains_key(&question) {
                    return Err(serde::de::Error::custom(format!(
                        "question `{question}` is answered twice"
                    )));
                }
                answers.insert(question, answer);
            }
            Ok(answers)
        }
    }
    deserializer.deserialize_map(Answers)
}

/// A struct read only from a JSON object: serde's derive would also take an array of the
/// fields in order, which the wire format does not allow.
fn object<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    optional_object(deserializer)?
        .ok_or_else(|| serde::de::Error::invalid_type(serde::de::Unexpected::Unit, &"an object"))
}

/// [`object`], or `None` for `null`.
fn optional_object<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    struct ObjectOnly<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for ObjectOnly<T> {
        type Value = Option<T>;
        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Option<T>, A::Error> {
            T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Some)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
    }
    deserializer.deserialize_any(ObjectOnly(std::marker::PhantomData))
}

fn is_empty_context(context: &Context) -> bool {
    *context == Context::default()
}

/// The shape of one answer in the JSON Schema.
#[cfg(feature = "schema")]
#[derive(schemars::JsonSchema)]
#[serde(untagged)]
#[allow(dead_code, reason = "exists only to describe the schema")]
enum SchemaAnswer {
    /// NPS 0–10 or a 1–7 rating.
    Scale(u8),
    /// Open text or a single choice.
    Text(String),
    /// Several choices.
    Choices(Vec<String>),
}

/// The JSON Schema of [`ResponseV1`], as published in `docs/`.
#[cfg(feature = "schema")]
pub fn response_schema() -> schemars::Schema {
    schemars::schema_for!(ResponseV1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_offsets_and_fractions() {
        let utc = Timestamp::parse("2026-11-23T09:30:00Z").unwrap();
        let paris = Timestamp::parse("2026-11-23T10:30:00.250+01:00").unwrap();
        assert_eq!(paris.unix_millis() - utc.unix_millis(), 250);
        assert_eq!(
            Timestamp::parse("1970-01-01T00:00:00Z")
                .unwrap()
                .unix_millis(),
            0
        );
        for bad in [
            "2026-02-30T00:00:00Z",
            "2026-11-23 09:30:00Z",
            "2026-11-23T09:30:00",
            "2026-11-23T24:00:00Z",
            "x",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps_round_trip_through_unix_millis() {
        for millis in [0, 1_795_000_000_123, -86_400_000, 951_782_400_000] {
            let stamp = Timestamp::from_unix_millis(millis);
            assert_eq!(
                Timestamp::parse(stamp.as_str()).unwrap().unix_millis(),
                millis,
                "{stamp}"
            );
        }
    }

    #[test]
    fn only_format_one_is_spoken() {
        assert!(FormatVersion::try_from(1).is_ok());
        assert_eq!(
            FormatVersion::try_from(2).unwrap_err().to_string(),
            "unsupported wire format 2; this server speaks format 1"
        );
    }
}
