//! Integration tests of the server and the `rapport` command line, through their boundaries:
//! HTTP requests into the router, a real listener, and the built binary.

/// A fresh server state on a temporary SQLite file, and request helpers.
mod support;

/// "People and access": tokens made, listed and revoked on the dashboard and the command
/// line, with their audit.
mod access;
/// The adversarial solver over HTTP: no protected answer can be derived from all that a
/// viewer and the account managers get, on this backend.
mod adversary;
/// The confidentiality audit: every endpoint, export, page, error and log line, every role.
mod audit;
/// Where identity goes, and where it must not.
mod confidentiality;
/// `--config FILE`: the example file, precedence, and refusals of a bad file.
mod config_file;
/// SIGKILL under load loses no acknowledged response.
mod crash;
/// The results dashboard: sign-in, roles, escaping, follow-ups and the CSV download.
mod dashboard;
/// The curious account manager: reports and flags move only by whole batches of verified
/// confidential answers.
mod disclosure;
/// Display names of accounts and matters: set by invitations and `rapport labels import`,
/// shown beside ids on the dashboard, in the CSV and in reports.
mod display_names;
/// Key drivers: the API, the dashboard and the summary agree, and an account manager's
/// drivers move only with a published batch.
mod drivers;
/// The email's survey block: eleven mail-safe links, and the clicked answer counted once.
mod email_block;
/// Emerging topics: the API and the dashboard agree; a confidential word arrives only with
/// its batch; no count below the minimum group size; quotes only for roles that read texts.
mod emerging;
/// The report's date range and account filter, and the admin's hidden and merged labels:
/// the API, the dashboard, roles, audit, and ranges a confidential answer apart.
mod filters;
/// The close-the-loop list and follow-up status through every role.
mod follow_ups;
/// The bad-input corpus: refused clearly, nothing stored; honest odd text kept verbatim.
mod hostile_input;
/// A survey that asks confidential respondents for identity: stored, accepted, sealed.
mod identity_modes;
/// `POST /api/v1/surveys/{id}/responses`: storage, idempotency, every refusal.
mod ingest;
/// Signed invitation links: context, replacement, refusals.
mod invitations;
/// The dashboard's invitations page: contacts uploaded, links downloaded once, states,
/// resends, refusals.
mod invitations_page;
/// The router behind a real listener in this process: concurrent resends.
mod listener;
/// The real binary on a real port: static files, CORS, graceful shutdown.
mod live_server;
/// Upgrading a database an older release left behind.
mod migrations;
/// The OpenAPI document: committed, complete, well-formed, and true to real answers.
mod openapi;
/// Health, readiness and metrics.
mod operations;
/// Signed portal context: verified, refused when forged or stale, required when the survey
/// says so; the guide's signing snippets checked against the server.
mod portal;
/// Several server processes on one database.
mod replicas;
/// The report columns kept in memory agree with the database after every kind of write.
mod report_cache;
/// Reports and the CSV export through every role: what each may and may not see.
mod roles;
/// `rapport score` on JSONL files, including the DOMAIN.md tables.
mod score_command;
/// Security headers on every response; the pages checked against their policy.
mod security_headers;
/// A full or read-only database: 503s, never a false 2xx, then recovery.
mod storage_full;
/// The admin's survey editor: templates, translations, settings, versions, preview.
mod survey_editor;
/// Survey definitions over HTTP and `rapport survey`.
mod surveys;
/// Reports across survey versions: `since_version`, the dashboard's note, refusals, and
/// each version's confidential answers only in that version's whole batches.
mod versions;
/// Webhooks to a receiver on a real port: signatures, retries, the delivery log, two
/// replicas, the command line, the admin's page, and no content from protected answers.
mod webhooks;
