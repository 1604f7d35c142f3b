//! Narrowing and relabelling a report's responses before it is computed: the day each
//! response was received ([`ReceivedDay`]), a filter by date range and account
//! ([`ReportFilter`]), and the programme's label rules that hide or merge junk values of a
//! context field ([`LabelRule`]).
//!
//! Everything here goes through [`ReportInput::filter`], so on a release (what a role other
//! than admin may see) a published batch of protected answers is kept whole or dropped
//! whole: a date range or a hidden label that cut a batch would let two reports differ by
//! part of it. Merging only renames values, so it can join groups, never split one, and it
//! never moves a row in or out of a batch.
//!
//! This module must never decide what a role may see: it narrows what it is given.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Interned, ReportInput};
use crate::wire::{civil_from_days, days_from_civil};

/// A calendar day (UTC), as the number of days since 1970-01-01. Built only from a valid
/// date, so it never holds 30 February.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReceivedDay(i32);

/// Refusal of a text that is not a date written `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("date must be written YYYY-MM-DD, like 2026-03-01, got {0:?}")]
pub struct DayError(pub String);

impl ReceivedDay {
    /// The day of a year, month (1–12) and day of the month, if it exists (years 1900–9999).
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Self> {
        if !(1900..=9999).contains(&year) || !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let days_in_month = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        if day > days_in_month {
            return None;
        }
        let days = days_from_civil(i64::from(year), i64::from(month), i64::from(day));
        Some(ReceivedDay(days as i32))
    }

    /// Parses a date written `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Self, DayError> {
        let refused = || DayError(text.chars().take(40).collect());
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(refused());
        }
        let number = |range: std::ops::Range<usize>| -> Option<u32> {
            let digits = &text[range];
            digits
                .bytes()
                .all(|byte| byte.is_ascii_digit())
                .then(|| digits.parse().ok())
                .flatten()
        };
        let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10))
        else {
            return Err(refused());
        };
        ReceivedDay::from_ymd(year as i32, month, day).ok_or_else(refused)
    }

    /// The day of a stored UTC timestamp such as `2026-03-01T09:30:00.000Z` (its first ten
    /// characters), if it starts with a valid date.
    pub fn of_timestamp(timestamp: &str) -> Option<Self> {
        timestamp
            .get(..10)
            .and_then(|date| ReceivedDay::parse(date).ok())
    }

    /// Days since 1970-01-01.
    pub fn days_since_epoch(self) -> i32 {
        self.0
    }

    /// Year, month (1–12) and day of the month.
    pub fn ymd(self) -> (i32, u32, u32) {
        let (year, month, day) = civil_from_days(i64::from(self.0));
        (year as i32, month as u32, day as u32)
    }
}

impl fmt::Display for ReceivedDay {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.ymd();
        write!(formatter, "{year:04}-{month:02}-{day:02}")
    }
}

impl TryFrom<String> for ReceivedDay {
    type Error = DayError;

    fn try_from(text: String) -> Result<Self, DayError> {
        ReceivedDay::parse(&text)
    }
}

impl From<ReceivedDay> for String {
    fn from(day: ReceivedDay) -> String {
        day.to_string()
    }
}

/// Which responses a report covers: received from one day to another (both included) and of
/// one account. An empty filter keeps every response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFilter {
    /// The first day counted.
    pub from: Option<ReceivedDay>,
    /// The last day counted.
    pub to: Option<ReceivedDay>,
    /// The one account counted.
    pub account: Option<String>,
}

/// Why a filter was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// The range ends before it starts.
    #[error("the date range ends ({to}) before it starts ({from})")]
    EndsBeforeStart {
        /// The first day asked for.
        from: ReceivedDay,
        /// The last day asked for.
        to: ReceivedDay,
    },
}

impl ReportFilter {
    /// A filter, refused when `to` is before `from`.
    pub fn new(
        from: Option<ReceivedDay>,
        to: Option<ReceivedDay>,
        account: Option<String>,
    ) -> Result<Self, FilterError> {
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            return Err(FilterError::EndsBeforeStart { from, to });
        }
        Ok(ReportFilter { from, to, account })
    }

    /// Whether it keeps every response.
    pub fn is_empty(&self) -> bool {
        self.from.is_none() && self.to.is_none() && self.account.is_none()
    }

    /// Whether the `row`-th response of `input` passes. A response whose day is unknown
    /// passes only when no date bound is set.
    fn keeps(&self, input: &ReportInput, row: usize) -> bool {
        let day = input.received_on(row);
        let after_start = self
            .from
            .is_none_or(|from| day.is_some_and(|day| day >= from));
        let before_end = self.to.is_none_or(|to| day.is_some_and(|day| day <= to));
        let of_account = self
            .account
            .as_deref()
            .is_none_or(|account| input.account(row) == Some(account));
        after_start && before_end && of_account
    }
}

/// A context field whose values label rules can hide or merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelField {
    /// The client account.
    Account,
    /// The matter or contract.
    Matter,
    /// The survey wave.
    Wave,
}

impl LabelField {
    /// Every field, in the order pages list them.
    pub const ALL: [LabelField; 3] = [LabelField::Account, LabelField::Matter, LabelField::Wave];

    /// The name stored and used in forms.
    pub fn as_str(self) -> &'static str {
        match self {
            LabelField::Account => "account",
            LabelField::Matter => "matter",
            LabelField::Wave => "wave",
        }
    }

    /// Parses [`LabelField::as_str`]'s names.
    pub fn parse(name: &str) -> Option<Self> {
        LabelField::ALL
            .into_iter()
            .find(|field| field.as_str() == name)
    }
}

/// What a label rule does with a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelAction {
    /// Leave out every response with the value.
    Hide,
    /// Count every response with the value as having this other value instead.
    MergeInto(String),
}

/// One rule: what to do with one value of one field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LabelRule {
    /// The field.
    pub field: LabelField,
    /// The value, as stored.
    pub value: String,
    /// Hide it or merge it into another value.
    pub action: LabelAction,
}

impl ReportInput {
    /// The day the `row`-th response was received, when known.
    pub fn received_on(&self, row: usize) -> Option<ReceivedDay> {
        let days = self.received[row];
        (days != NO_DAY).then_some(ReceivedDay(days))
    }

    /// The responses `filter` keeps, through [`ReportInput::filter`]: on a release, a
    /// published batch that the range or the account would cut is dropped whole.
    pub fn filtered(&self, filter: &ReportFilter) -> ReportInput {
        if filter.is_empty() {
            return self.clone();
        }
        self.filter(|input, row| filter.keeps(input, row))
    }

    /// The responses with `rules` applied: values merged first (renamed before anything is
    /// grouped, so two groups can only become one), then responses whose value, after
    /// merging, is hidden are left out through [`ReportInput::filter`], so on a release a
    /// batch with any hidden response is left out whole.
    pub fn with_labels(&self, rules: &[LabelRule]) -> ReportInput {
        if rules.is_empty() {
            return self.clone();
        }
        let mut relabelled = self.clone();
        for field in LabelField::ALL {
            let merges: Vec<(&str, &str)> = rules
                .iter()
                .filter(|rule| rule.field == field)
                .filter_map(|rule| match &rule.action {
                    LabelAction::MergeInto(target) => Some((rule.value.as_str(), target.as_str())),
                    LabelAction::Hide => None,
                })
                .collect();
            if !merges.is_empty() {
                let column = relabelled.column_mut(field);
                *column = column.renamed(|value| {
                    merges
                        .iter()
                        .find(|(from, _)| *from == value)
                        .map(|(_, into)| *into)
                });
            }
        }
        let hidden: Vec<(LabelField, &str)> = rules
            .iter()
            .filter(|rule| rule.action == LabelAction::Hide)
            .map(|rule| (rule.field, rule.value.as_str()))
            .collect();
        if hidden.is_empty() {
            return relabelled;
        }
        relabelled.filter(|input, row| {
            !hidden
                .iter()
                .any(|(field, value)| input.column(*field).value(row) == Some(*value))
        })
    }

    /// The distinct accounts of the responses, sorted.
    pub fn accounts_present(&self) -> Vec<String> {
        let mut seen = vec![false; self.accounts.values.len()];
        for code in &self.accounts.codes {
            seen[*code as usize] = true;
        }
        let mut accounts: Vec<String> = self
            .accounts
            .values
            .iter()
            .zip(seen)
            .filter_map(|(value, seen)| if seen { value.clone() } else { None })
            .collect();
        accounts.sort();
        accounts.dedup();
        accounts
    }

    fn column(&self, field: LabelField) -> &Interned {
        match field {
            LabelField::Account => &self.accounts,
            LabelField::Matter => &self.matters,
            LabelField::Wave => &self.waves,
        }
    }

    fn column_mut(&mut self, field: LabelField) -> &mut Interned {
        match field {
            LabelField::Account => &mut self.accounts,
            LabelField::Matter => &mut self.matters,
            LabelField::Wave => &mut self.waves,
        }
    }
}

/// The stored day of a row whose day is unknown.
pub(super) const NO_DAY: i32 = i32::MIN;

impl Interned {
    /// The same rows, each value replaced by what `rename` gives for it (unchanged when it
    /// gives nothing), with values that become equal sharing one code.
    fn renamed<'rule>(&self, rename: impl Fn(&str) -> Option<&'rule str>) -> Interned {
        let mut fresh = Interned::default();
        let mut new_codes = Vec::with_capacity(self.values.len());
        for value in self.values.iter() {
            let value = value.as_deref().map(|text| rename(text).unwrap_or(text));
            fresh.push(value);
            new_codes.push(fresh.codes.pop().expect("push appends a code"));
        }
        fresh.codes = self
            .codes
            .iter()
            .map(|code| new_codes[*code as usize])
            .collect();
        fresh
    }
}
