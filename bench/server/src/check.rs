//! The database against what the load generator was told: every response that got a 2xx
//! stored, exactly once, and nothing stored that got none.
//!
//! This compares sets of response ids, not just counts, so a lost response cannot hide
//! behind one stored that should not have been. It only reads the database.

use std::collections::{HashMap, HashSet};

use crate::database::Pool;
use crate::responses::response_id;

/// How the stored responses compare with the acknowledged ones.
#[derive(Debug, Default)]
pub(crate) struct Reconciliation {
    /// Distinct responses that got at least one 2xx.
    pub(crate) acknowledged: usize,
    /// Rows in `responses` for the benchmark's survey.
    pub(crate) stored: usize,
    /// Acknowledged but not stored.
    pub(crate) lost: Vec<String>,
    /// Stored but never acknowledged.
    pub(crate) unacknowledged: Vec<String>,
    /// Rows beyond the first for an id.
    pub(crate) doubled: usize,
    /// Responses answered 201 (`stored`) more than once.
    pub(crate) created_twice: Vec<String>,
    /// Stored responses that no request was told were stored (every 2xx said `duplicate`).
    pub(crate) never_created: Vec<String>,
}

impl Reconciliation {
    /// Reads the stored ids from `pool` and compares them with the indices that got a 2xx
    /// (`acknowledged`, with repeats) and a 201 (`created`, with repeats).
    pub(crate) async fn of(
        pool: &Pool,
        acknowledged: &[u64],
        created: &[u64],
    ) -> anyhow::Result<Self> {
        let mut stored_ids = pool.response_ids().await?;
        let stored = stored_ids.len();
        stored_ids.sort_unstable();
        stored_ids.dedup();
        let doubled = stored - stored_ids.len();
        let stored_ids: HashSet<String> = stored_ids.into_iter().collect();
        let acknowledged_ids: HashSet<String> = acknowledged
            .iter()
            .map(|&index| response_id(index))
            .collect();
        let mut created_counts: HashMap<u64, u32> = HashMap::new();
        for &index in created {
            *created_counts.entry(index).or_default() += 1;
        }
        let created_ids: HashSet<String> = created_counts
            .keys()
            .map(|&index| response_id(index))
            .collect();
        let sorted = |ids: Vec<String>| {
            let mut ids = ids;
            ids.sort_unstable();
            ids
        };
        Ok(Reconciliation {
            acknowledged: acknowledged_ids.len(),
            stored,
            lost: sorted(acknowledged_ids.difference(&stored_ids).cloned().collect()),
            unacknowledged: sorted(stored_ids.difference(&acknowledged_ids).cloned().collect()),
            doubled,
            created_twice: sorted(
                created_counts
                    .iter()
                    .filter(|(_, count)| **count > 1)
                    .map(|(&index, _)| response_id(index))
                    .collect(),
            ),
            never_created: sorted(stored_ids.difference(&created_ids).cloned().collect()),
        })
    }

    /// Whether the database holds exactly the acknowledged responses, each once, each
    /// acknowledged as stored once.
    pub(crate) fn exact(&self) -> bool {
        self.lost.is_empty()
            && self.unacknowledged.is_empty()
            && self.doubled == 0
            && self.created_twice.is_empty()
            && self.never_created.is_empty()
    }

    /// Fails, naming the first few ids of each kind, unless [`Self::exact`].
    pub(crate) fn ensure_exact(&self) -> anyhow::Result<()> {
        if self.exact() {
            return Ok(());
        }
        let first = |ids: &[String]| ids.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
        anyhow::bail!(
            "the database does not hold exactly the acknowledged responses: {} acknowledged, {} stored; {} lost ({}), {} stored without a 2xx ({}), {} doubled rows, \
             {} answered 201 twice ({}), {} stored but never answered 201 ({})",
            self.acknowledged,
            self.stored,
            self.lost.len(),
            first(&self.lost),
            self.unacknowledged.len(),
            first(&self.unacknowledged),
            self.doubled,
            self.created_twice.len(),
            first(&self.created_twice),
            self.never_created.len(),
            first(&self.never_created)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::{Backend, InsertMethod};
    use crate::responses::{RowMaker, now};

    /// A fresh SQLite database holding responses 0–9, as the server stores them, in its own
    /// temporary directory.
    async fn ten_stored(label: &str) -> (Pool, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "rapport-bench-check-{label}-{}",
            std::process::id()
        ));
        let url = Backend::Sqlite(dir.clone()).fresh(label).await.unwrap();
        let maker = RowMaker::new().unwrap();
        let received_at = now();
        let rows: Vec<_> = (0..10)
            .map(|index| maker.row(index, &received_at).unwrap())
            .collect();
        let pool = Pool::connect(&url, 1).await.unwrap();
        pool.insert_batch(&rows, InsertMethod::MultiRow)
            .await
            .unwrap();
        (pool, dir)
    }

    async fn remove(pool: Pool, dir: std::path::PathBuf) {
        pool.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn exactly_the_acknowledged_responses_pass() {
        let (pool, dir) = ten_stored("exact").await;
        // Response 3 was a pair: two 2xx, one 201.
        let acknowledged: Vec<u64> = (0..10).chain([3]).collect();
        let check = Reconciliation::of(&pool, &acknowledged, &(0..10).collect::<Vec<_>>())
            .await
            .unwrap();
        assert!(check.exact(), "{check:?}");
        assert_eq!((check.acknowledged, check.stored), (10, 10));
        check.ensure_exact().unwrap();
        remove(pool, dir).await;
    }

    #[tokio::test]
    async fn lost_unacknowledged_and_doubly_created_responses_are_named() {
        let (pool, dir) = ten_stored("inexact").await;
        // 10 acknowledged but not stored; 9 stored but never acknowledged; 2 answered 201
        // twice; 5 stored but only ever answered as a duplicate.
        let acknowledged: Vec<u64> = (0..9).chain([10]).collect();
        let created: Vec<u64> = [0, 1, 2, 2, 3, 4, 6, 7, 8, 10].to_vec();
        let check = Reconciliation::of(&pool, &acknowledged, &created)
            .await
            .unwrap();
        assert!(!check.exact());
        assert_eq!(check.lost, [response_id(10)]);
        assert_eq!(check.unacknowledged, [response_id(9)]);
        assert_eq!(check.created_twice, [response_id(2)]);
        assert_eq!(check.never_created, [response_id(5), response_id(9)]);
        assert_eq!(check.doubled, 0);
        let message = check.ensure_exact().unwrap_err().to_string();
        assert!(
            message.contains("1 lost") && message.contains(&response_id(10)),
            "{message}"
        );
        remove(pool, dir).await;
    }
}
