//! Integration tests of the server and the `rapport` command line, through their boundaries:
//! HTTP requests into the router, a real listener, and the built binary.

/// A fresh server state on a temporary SQLite file, and request helpers.
mod support;

/// `POST /api/v1/surveys/{id}/responses`: storage, idempotency, every refusal.
mod ingest;
/// Survey definitions over HTTP and `rapport survey`.
mod surveys;
/// Where identity goes, and where it must not.
mod confidentiality;
/// Signed invitation links: context, replacement, refusals.
mod invitations;
/// Reports and the CSV export through every role: what each may and may not see.
mod roles;
/// `rapport score` on JSONL files, including the DOMAIN.md tables.
mod score_command;
/// The OpenAPI document: committed, complete, well-formed, and true to real answers.
mod openapi;
/// `--config FILE`: the example file, precedence, and refusals of a bad file.
mod config_file;
/// The router behind a real listener in this process: concurrent resends.
mod listener;
/// The real binary on a real port: static files, CORS, graceful shutdown.
mod live_server;
