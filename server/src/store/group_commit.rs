//! Group commit, written once for both writers: take whatever responses are waiting (up to
//! [`MAX_BATCH`]) and write them in one transaction, so that concurrent requests share one
//! commit, and so one flush to disk, instead of queueing for one each. A response is
//! answered only after the commit that holds it; while one batch commits, the next one
//! gathers, so batches grow with the load and a lone request waits for nobody.
//!
//! What differs between the backends, how a batch is taken from the queue and written, is
//! a [`BatchWriter`]: SQLite's ([`super::sqlite_writer`]) and PostgreSQL's
//! ([`super::postgres_writer`]).

use tokio::sync::oneshot;

use super::responses::{InsertOutcome, NewResponse};
use crate::metrics::{BATCH_BUCKETS, Histogram};

/// The most responses written in one group-commit transaction.
pub(super) const MAX_BATCH: usize = 256;

/// A response waiting for the writer, and where to send what became of it.
#[derive(Debug)]
pub(super) struct PendingInsert {
    /// The response.
    pub(super) response: NewResponse,
    /// Where its outcome goes.
    pub(super) done: oneshot::Sender<anyhow::Result<InsertOutcome>>,
}

/// A backend's writer, as the group-commit loop ([`run`]) drives it.
pub(super) trait BatchWriter {
    /// Waits for at least one waiting response and moves it, with any others waiting, up
    /// to [`MAX_BATCH`] in all, into `batch`; returns how many it moved, 0 once every sender
    /// is gone.
    async fn receive(&mut self, batch: &mut Vec<PendingInsert>) -> usize;

    /// Writes `responses` in one transaction: all committed, or none. The outcomes are in
    /// the order of `responses`.
    async fn write(&mut self, responses: &[&NewResponse]) -> anyhow::Result<Vec<InsertOutcome>>;
}

/// The writer's loop: takes batches and writes each in one transaction until every sender
/// is gone, counting their sizes in `batch_sizes`.
pub(super) async fn run(mut writer: impl BatchWriter, batch_sizes: &std::sync::Mutex<Histogram>) {
    loop {
        let mut batch = Vec::new();
        if writer.receive(&mut batch).await == 0 {
            return;
        }
        // Sorted by response id, the same order in every batch, so that two writers taking
        // row locks (PostgreSQL) cannot wait for each other in a cycle.
        batch.sort_by(|a, b| a.response.response_id.cmp(&b.response.response_id));
        tracing::debug!(size = batch.len(), "group commit");
        if let Ok(mut sizes) = batch_sizes.lock() {
            sizes.observe(&BATCH_BUCKETS, batch.len() as f64);
        }
        let responses: Vec<&NewResponse> = batch.iter().map(|pending| &pending.response).collect();
        let written = writer.write(&responses).await;
        drop(responses);
        for pending in settle_batch(batch, written) {
            let outcome = writer
                .write(&[&pending.response])
                .await
                .map(|mut outcomes| outcomes.remove(0));
            let _ = pending.done.send(outcome);
        }
    }
}

/// Answers every response of a batch with what writing it in one transaction did. A batch
/// of more than one that failed is handed back, for its responses to be written one
/// transaction each, so one bad row never takes the others down with it; a batch of one
/// gets its own error, with its cause intact for the caller to classify (a full disk is a
/// 503, not a 500).
fn settle_batch(
    mut batch: Vec<PendingInsert>,
    written: anyhow::Result<Vec<InsertOutcome>>,
) -> Vec<PendingInsert> {
    match written {
        Ok(outcomes) => {
            for (pending, outcome) in batch.into_iter().zip(outcomes) {
                let _ = pending.done.send(Ok(outcome));
            }
            Vec::new()
        }
        Err(error) if batch.len() > 1 => {
            tracing::warn!(
                size = batch.len(),
                "group commit failed ({error:#}); writing its responses one by one"
            );
            batch
        }
        Err(error) => {
            if let Some(pending) = batch.pop() {
                let _ = pending.done.send(Err(error));
            }
            Vec::new()
        }
    }
}
