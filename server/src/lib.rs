//! The Rapport server and command-line tool, as a library so that tests drive the same
//! code the `rapport` binary runs.
//!
//! - [`config`]: configuration from flags, environment variables and an optional TOML file,
//!   parsed once into typed structs;
//! - [`store`]: the only module that knows SQL;
//! - [`identity`]: sealing respondent identity with the identity key;
//! - [`invitation`]: signed invitation tokens for email links and portals;
//! - [`api`]: the HTTP API and static files, as `fn app(state) -> Router`;
//! - [`connection`]: how `rapport serve` serves connections, with header, body and idle
//!   time limits;
//! - [`headers`]: the security headers every response carries;
//! - [`auth`]: API tokens and the roles that restrict what a caller sees;
//! - [`export`]: role-restricted reports and the CSV export;
//! - [`dashboard`]: the results dashboard, HTML rendered from what `export` and
//!   `follow_up` return for the signed-in caller;
//! - [`follow_up`]: the close-the-loop list per account, and follow-up status;
//! - [`demo`]: `rapport demo-seed`, a generated demo programme stored through ingest;
//! - [`error`]: the one error type every handler returns;
//! - [`metrics`]: what the server counts, and `GET /metrics`;
//! - [`openapi`]: the OpenAPI document of `/api/v1`, generated from the handlers;
//! - [`rate_limit`]: the per-client limit on response ingest;
//! - [`score_file`]: `rapport score`, reports from a JSONL file of responses;
//! - [`widget_assets`]: the widget bundle, public to every origin, with its caching.
//!
//! Nothing in this crate computes a score itself: every number comes from `rapport-scoring`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod auth;
pub mod config;
pub mod connection;
pub mod dashboard;
pub mod demo;
pub mod error;
pub mod export;
pub mod follow_up;
pub mod headers;
pub mod identity;
pub mod invitation;
pub mod metrics;
pub mod openapi;
pub mod portal;
pub mod rate_limit;
pub mod score_file;
pub mod store;
pub mod widget_assets;

pub use api::{AppState, app};
