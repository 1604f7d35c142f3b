//! Rapport's scoring: the one source of truth for the numbers.
//!
//! The same code runs in the browser (the widget's provisional score) and on the server
//! (the stored, authoritative score and every report). It holds:
//!
//! - [`definition`]: the survey definition model and its validation;
//! - `templates` (feature `templates`): the built-in templates in five languages;
//! - [`wire`]: the response wire format, version 1;
//! - [`validate`](mod@validate): checking a response against its survey version;
//! - [`score`]: per-response scores;
//! - [`aggregate`]: the mergeable tally and its figures;
//! - [`entry`]: the compact bytes a report needs from one response, written at ingest;
//! - [`report`]: segments, suppression, comparisons and topics;
//! - [`drivers`]: key drivers, what moves the 0–10 answer item by item (inside a report);
//! - [`disclosure`]: what of the responses a role other than admin may see;
//! - [`close_loop`]: which responses need a conversation with the client, and why;
//! - [`completion`]: completion rates from recorded invitations;
//! - `emerging` (feature `emerging`): words and phrases newly frequent in the open texts,
//!   and the share of texts no topic catches, under the same disclosure as reports;
//! - [`stats`]: the t distribution and Welch's test.
//!
//! The modules form layers, each using only those below it, never one above: `ids`, then
//! `definition` (with `templates` on it), then the typed answer values (`answer`) and what
//! scoring says of a response as data (`outcome`), then `wire`, `validate`, `score`,
//! `aggregate` and `stats`, then `drivers` (key drivers, on `score` and `stats`), then `entry` (with `mention`, the one definition of a topic
//! mention), then `report` (with `visibility`, the values of disclosure control it stores),
//! and on top `disclosure`, `close_loop`, `completion` and `emerging`. The items of the private modules
//! (`answer`, `outcome`, `mention`, `visibility`) are public through the modules that
//! re-export them, such as `validate::Answers`, `score::ResponseScore`,
//! `disclosure::Arrival` and `report::mentions`. A tidy check in `xtask` refuses a cycle.
//!
//! This crate does no I/O, touches no DOM and knows no database. It must build for
//! `wasm32-unknown-unknown` and for the host with the same code.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod aggregate;
mod answer;
pub mod close_loop;
pub mod completion;
pub mod definition;
pub mod disclosure;
pub mod drivers;
#[cfg(feature = "emerging")]
pub mod emerging;
pub mod entry;
pub mod ids;
mod mention;
mod outcome;
pub mod report;
pub mod score;
pub mod stats;
#[cfg(feature = "templates")]
pub mod templates;
pub mod validate;
mod visibility;
pub mod wire;

pub use aggregate::{Figures, Tally};
pub use definition::{ConfidentialityMode, Question, SurveyDefinition};
pub use ids::{LevelId, Locale, QuestionId, ResponseId, SurveyId};
pub use report::{
    Crossing, EntryContext, FieldPair, NONE_VALUE, Report, ReportInput, ReportOptions,
    ResponseRecord, SegmentField, build_report, report_of,
};
pub use score::{NpsCategory, RelationshipCategory, ResponseScore, Scorer};
#[cfg(feature = "templates")]
pub use templates::template;
pub use validate::{Answers, ValidResponse, ValidationError, validate, validate_answers};
pub use wire::{ConfidentialityChoice, ResponseV1};
