//! The Rapport server and command-line tool, as a library so that tests drive the same
//! code the `rapport` binary runs.
//!
//! Its modules form layers; each may import only the layers below it, and the tidy test
//! in `xtask` fails on any import cycle between them.
//!
//! - The router, at the top: [`api`] (`fn app(state) -> Router`), which merges each
//!   feature's `routes()` with [`openapi`], the document of `/api/v1` generated from the
//!   handlers.
//! - Adapters, which parse a request, call a service and map its answer to HTTP: the
//!   `http` module of each feature ([`ingest::http`], [`export::http`], [`emerging::http`],
//!   [`follow_up::http`], [`invitations::http`]), [`surveys`] (survey definitions),
//!   [`dashboard`] (HTML rendered from what `export` and `follow_up` return),
//!   [`http_auth`] (the bearer-token extractor), [`http_metrics`] (request counts and
//!   `GET /metrics`) and [`http_json`] (request bodies).
//! - Services, callable without axum, returning domain values and domain errors:
//!   [`ingest`] (validate, score, seal and store one response), [`export`] (role-restricted
//!   reports and the CSV export), [`emerging`] (role-restricted emerging topics from the
//!   open texts), [`follow_up`] (the close-the-loop list and statuses),
//!   [`invitations`] (what a link says, and whether it may be answered), [`webhooks`]
//!   (signed events about new identified responses, and their delivery); and the commands
//!   [`demo`] (`rapport demo-seed`, through ingest), [`score_file`] (`rapport score`) and
//!   [`labels`] (`rapport labels`, display names of accounts and matters).
//! - [`state`]: `AppState`, what every handler shares.
//! - [`store`]: the only module that knows SQL.
//! - Primitives that import none of the above: [`config`], [`identity`], [`invitation`]
//!   (signed invitation tokens), [`email_block`] (the survey block of a thank-you email),
//!   [`portal`], [`auth`] (roles and token hashing),
//!   [`metrics`], [`rate_limit`], [`error`] (the one error type every handler returns),
//!   [`schemas`] (the scoring types in the OpenAPI document), [`connection`], [`headers`]
//!   and [`widget_assets`].
//!
//! Nothing in this crate computes a score itself: every number comes from `rapport-scoring`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod access;
pub mod api;
pub mod auth;
pub mod config;
pub mod connection;
pub mod dashboard;
pub mod demo;
pub mod email_block;
pub mod emerging;
pub mod error;
pub mod export;
pub mod follow_up;
pub mod headers;
pub mod http_auth;
pub mod http_json;
pub mod http_metrics;
pub mod identity;
pub mod ingest;
pub mod invitation;
pub mod invitations;
pub mod labels;
pub mod metrics;
pub mod openapi;
pub mod portal;
pub mod rate_limit;
pub mod schemas;
pub mod score_file;
pub mod state;
pub mod store;
pub mod survey_editor;
pub mod surveys;
pub mod webhooks;
pub mod widget_assets;

pub use api::app;
pub use state::AppState;
