//! The HTTP floor: the most responses a second this machine answers over HTTP when the
//! server does nothing with them.
//!
//! `rapport-bench ingest` starts this binary again as `rapport-bench http-floor`, a separate
//! process like `rapport serve`, and sends it the same requests over the same client. It
//! runs axum and hyper as the server does, reads each body whole, and answers `201` with a
//! receipt of the same shape, but validates, scores and stores nothing. What it reaches is
//! the ceiling for any server on this stack, beside the database's ceiling.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use tokio::process::{Child, Command};

use crate::http::{free_address, wait_until_healthy};

/// A receipt of the size `rapport serve` answers, so both write the same bytes back.
const RECEIPT: &str = r#"{"response_id":"00000000-0000-4000-8000-000000000000","status":"stored","score":{"nps_category":"promoter","elements":{"care":5,"commitment":3,"reliability":6,"responsiveness":2,"satisfaction":4,"trust":6,"uniqueness":7},"levels":{"bonds":5.0,"performance":4.0,"quality":6.5},"crq":5.166666666666667,"relationship":"good"}}"#;

/// Serves the floor on `listen` until killed.
pub(crate) async fn serve(listen: SocketAddr) -> anyhow::Result<()> {
    let app = Router::new()
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .route(
            "/api/v1/surveys/{id}/responses",
            post(|body: Bytes| async move {
                // Touch the body, so that reading it cannot be skipped.
                let status = if body.first() == Some(&b'{') {
                    StatusCode::CREATED
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                (
                    status,
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    RECEIPT,
                )
                    .into_response()
            }),
        );
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// The floor server as a child process, killed on drop.
#[derive(Debug)]
pub(crate) struct FloorServer {
    child: Child,
    /// Where it listens.
    pub(crate) address: SocketAddr,
}

impl FloorServer {
    /// Starts `bench http-floor` on a free loopback port and waits until it answers.
    pub(crate) async fn start(bench: &Path) -> anyhow::Result<Self> {
        let address = free_address()?;
        let mut child = Command::new(bench)
            .args(["http-floor", "--listen", &address.to_string()])
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {} http-floor", bench.display()))?;
        wait_until_healthy(
            &mut child,
            address,
            "the HTTP floor server",
            Duration::from_secs(30),
        )
        .await?;
        Ok(FloorServer { child, address })
    }

    /// The process id, while it runs.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}
