//! Disclosure control: what of a survey version's responses a role other than the programme
//! admin may see, so that no protected (confidential or anonymous) answer can be recovered
//! from the results, however many of them are compared.
//!
//! The threat is a curious account manager (DOMAIN.md, "The threat model"): they see every
//! result their role allows, as often as they like, and know who they emailed yesterday. So
//! they can subtract two reports taken an answer apart, subtract the groups shown from the
//! total, or post answers of their own to lift a group over the minimum size. The rules:
//!
//! 1. **Identified answers are live.** Their respondents waived confidentiality.
//! 2. **Protected answers are published in batches.** A protected answer counts toward a
//!    batch only if it is *verified*: it came through an invitation or a portal's signed
//!    context ([`Arrival`]), so nobody can lift a batch with answers they made up. Per
//!    account and confidentiality choice, verified protected answers are taken in the order
//!    they were received and published in consecutive batches of exactly `k` (the survey's
//!    minimum group size); the last, incomplete batch waits. Unverified protected answers are
//!    never shown to these roles. A batch, once published, never changes: later answers only
//!    add batches after it.
//! 3. **A protected answer enters a figure only with its whole batch.** Every figure these
//!    roles see (overall, each breakdown group, each filter) counts a batch whole or not at
//!    all: a breakdown group that would hold only part of a batch leaves that batch out, and
//!    a filter that keeps only part of a batch drops the rest of it. So every set of
//!    protected answers behind any figure is a union of whole batches, and so is any
//!    difference or complement of such sets: none holds fewer than `k` answers.
//! 4. **Counts below `k` of protected answers are never shown**: the number of waiting
//!    answers is only ever described as "fewer than `k`", whatever it is.
//!
//! Complementary suppression of breakdown groups (hidden groups together hold at least `k`
//! answers) is applied to every report in [`crate::report`], for every role.
//!
//! This module decides, it never renders: the server applies [`release`] to every result it
//! gives a non-admin role, and the dashboard shows what comes back.

use crate::report::ReportInput;
pub use crate::visibility::{Arrival, BatchId, RowRelease};
use crate::wire::ConfidentialityChoice;

/// Whether an answer is protected: confidential or anonymous.
pub fn is_protected(confidentiality: ConfidentialityChoice) -> bool {
    confidentiality != ConfidentialityChoice::Identified
}

/// The responses of a survey version as a role other than admin may see them.
#[derive(Debug, Clone)]
pub struct Release {
    /// What may be seen of each row of the input, by row.
    rows: Vec<RowRelease>,
    /// The last row of each batch, by batch: the answer that completed it.
    batch_last_rows: Vec<usize>,
    /// The rows that may be seen (live and published), with their batches, in order.
    visible: ReportInput,
}

impl Release {
    /// What may be seen of the `row`-th response of the input.
    pub fn row(&self, row: usize) -> RowRelease {
        self.rows[row]
    }

    /// The row of the input whose answer completed `batch`.
    pub fn batch_last_row(&self, batch: BatchId) -> usize {
        self.batch_last_rows[batch as usize]
    }

    /// The row of the input whose answer completed the latest published batch among the
    /// rows for which `keep` holds: when the figures over those rows last changed by a batch.
    pub fn latest_batch_row(&self, keep: impl Fn(usize) -> bool) -> Option<usize> {
        self.batch_last_rows
            .iter()
            .rev()
            .copied()
            .find(|row| keep(*row))
    }

    /// The rows that may be seen, as a report input whose filters and breakdowns count each
    /// batch whole or not at all.
    pub fn visible(&self) -> &ReportInput {
        &self.visible
    }

    /// The visible rows, taken out of the release.
    pub fn into_visible(self) -> ReportInput {
        self.visible
    }
}

/// Decides what of `input` a role other than admin may see, with batches of
/// `min_group_size` (at least 1).
pub fn release(input: &ReportInput, min_group_size: u32) -> Release {
    let batch_size = min_group_size.max(1) as usize;
    let mut rows = vec![RowRelease::Live; input.len()];
    // The verified protected rows of each account and choice (by account code and choice
    // index), in order; full chunks of them are the batches.
    let mut units: Vec<Vec<usize>> = vec![Vec::new(); input.n_account_codes() * 3];
    for (row, release) in rows.iter_mut().enumerate() {
        let choice = input.confidentiality(row);
        if !is_protected(choice) {
            continue;
        }
        if !input.arrival(row).is_verified() {
            *release = RowRelease::Unverified;
            continue;
        }
        *release = RowRelease::Waiting;
        let unit = &mut units[input.account_code(row) * 3 + choice as usize];
        unit.push(row);
    }
    // Number the batches in the order they were completed: by the row of their last answer.
    let mut batch_last_rows: Vec<usize> = units
        .iter()
        .flat_map(|members| members.chunks_exact(batch_size))
        .map(|chunk| *chunk.last().expect("chunks are never empty"))
        .collect();
    batch_last_rows.sort_unstable();
    for members in &units {
        for chunk in members.chunks_exact(batch_size) {
            let last = *chunk.last().expect("chunks are never empty");
            let batch = batch_last_rows
                .binary_search(&last)
                .expect("every full chunk's last row is listed") as BatchId;
            for row in chunk {
                rows[*row] = RowRelease::Published(batch);
            }
        }
    }
    let visible = input.released(&rows);
    Release {
        rows,
        batch_last_rows,
        visible,
    }
}
