//! The state every handler shares: the database, the identity key, the counters and the
//! settings read at start.
//!
//! It sits below every service and adapter, and above the primitives it holds (`store`,
//! `identity`, `metrics`, `rate_limit`). It must never import a service, a handler or the
//! router: they import it.

use std::path::PathBuf;
use std::sync::Arc;

use crate::identity::IdentityKey;
use crate::metrics::Counters;
use crate::rate_limit::RateLimiter;
use crate::store::{CompiledSurvey, Store};

/// Everything a handler needs, built once at start and shared: the router holds it in an
/// `Arc`, so a request clones a pointer, not the paths, origins and keys inside.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The key that seals identity.
    pub identity_key: IdentityKey,
    /// Pages served at `/`.
    pub www_dir: PathBuf,
    /// Widget bundle served at `/widget/`.
    pub widget_dir: PathBuf,
    /// Origins allowed to post from a browser, besides the server's own.
    pub allowed_origins: Vec<String>,
    /// Running counters.
    pub counters: Arc<Counters>,
    /// Per-client limit on response ingest.
    pub rate_limiter: Arc<RateLimiter>,
    /// Whether the client address comes from `X-Forwarded-For` (behind a trusted proxy).
    pub trust_forwarded_for: bool,
}

impl AppState {
    /// Survey `id` in `version` (the latest when `None`), or the error `missing` makes of
    /// its id when no such survey or version is stored: each service names that case in
    /// its own error type.
    pub async fn survey_or<E: From<anyhow::Error>>(
        &self,
        id: &str,
        version: Option<u32>,
        missing: impl FnOnce(String) -> E,
    ) -> Result<Arc<CompiledSurvey>, E> {
        match self.store.survey(id, version).await? {
            Some(survey) => Ok(survey),
            None => Err(missing(id.to_owned())),
        }
    }
}
