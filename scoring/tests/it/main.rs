//! Integration tests of `rapport-scoring`, through its public API only.
//!
//! One test binary with a module per feature, so the suite links once. It runs on the host;
//! `tests/browser.rs` runs the same scoring inside headless Chromium.
#![cfg(not(target_arch = "wasm32"))]

/// Builders for responses and records shared by the modules below.
mod support;

/// Which responses need a close-the-loop conversation.
mod close_loop;
/// Completion rates from invitations.
mod completion;
/// Two-field breakdowns: hand-checked cells and tests, suppression by row and column.
mod crossings;
/// Loading survey definitions from TOML and JSON, and the errors that name the bad field.
mod definitions;
/// Disclosure control: an adversarial solver plays the account manager against the
/// reports other roles than admin receive.
mod disclosure;
/// Key drivers: hand-checked figures, the SciPy/statsmodels reference, properties.
mod drivers;
/// Emerging topics: hand-checked log-odds, stemming in five languages, disclosure.
mod emerging;
/// The received day, filters by date range and account, and label rules, batch-whole.
mod filters;
/// Properties of the mergeable tally: bounds, merge, order, suppression.
mod properties;
/// Report columns stored as snapshots and read back.
mod report_snapshots;
/// Reports: hand-checked figures, the DOMAIN.md tables, snapshots of the JSON.
mod reports;
/// The published JSON Schema of the wire format stays in step with the types.
mod schema;
/// Per-response scores, checked by hand.
mod scoring;
/// The solver the disclosure tests share with the server's suite.
mod solver;
/// Checking wire-format responses against a survey.
mod validation;
/// Reports spanning survey versions: carried by question id, batches whole, refusals.
mod versions;
