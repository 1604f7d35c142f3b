//! What the server counts while it runs, rendered in the Prometheus text format.
//!
//! - `rapport_http_requests_total{route, method, status}` and
//!   `rapport_http_request_duration_seconds{route}` (a histogram) for every API route, by
//!   its template (`/api/v1/surveys/{id}/responses`), never by a concrete path, so a
//!   survey id or token never becomes a label;
//! - `rapport_ingest_batch_size` (a histogram): responses per group-commit transaction;
//! - `rapport_score_mismatches_total`: responses whose provisional score from the widget
//!   differed from the server's, which means a client/server mismatch.
//!
//! The counts are per process; Prometheus sums replicas. Nothing here is needed for
//! correctness, and nothing here names a respondent.
//!
//! These are primitives that `store` records into as well, so this module must never
//! import the state, a handler or the store: the middleware that counts requests and the
//! `GET /metrics` handler live in [`crate::http_metrics`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the request-duration buckets, in seconds.
const DURATION_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];
/// Upper bounds of the batch-size buckets, in responses.
pub const BATCH_BUCKETS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// A cumulative histogram with fixed buckets.
#[derive(Debug, Clone, Default)]
pub struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    /// Records one observation against `buckets`.
    pub fn observe(&mut self, buckets: &[f64], value: f64) {
        if self.counts.len() != buckets.len() {
            self.counts = vec![0; buckets.len()];
        }
        for (count, bound) in self.counts.iter_mut().zip(buckets) {
            if value <= *bound {
                *count += 1;
            }
        }
        self.sum += value;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str, buckets: &[f64]) {
        let separator = if labels.is_empty() { "" } else { "," };
        for (idx, bound) in buckets.iter().enumerate() {
            let count = self.counts.get(idx).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{separator}le=\"{bound}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{separator}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

/// Counters the server keeps while it runs.
#[derive(Debug, Default)]
pub struct Counters {
    /// Responses whose provisional score (from the widget) differed from the server's.
    pub score_mismatches: AtomicU64,
    routes: Mutex<BTreeMap<String, RouteCounts>>,
}

/// What one route template has answered.
#[derive(Debug, Default)]
struct RouteCounts {
    /// Requests by method and status; a handful per route, so a list.
    answered: Vec<(String, u16, u64)>,
    durations: Histogram,
}

impl Counters {
    /// Records one answered request. After a route's first request this allocates nothing:
    /// it runs on every request.
    pub fn record_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let Ok(mut routes) = self.routes.lock() else {
            return;
        };
        let counts = match routes.get_mut(route) {
            Some(counts) => counts,
            None => routes.entry(route.to_owned()).or_default(),
        };
        match counts
            .answered
            .iter_mut()
            .find(|(known, code, _)| *code == status && known == method)
        {
            Some((_, _, n)) => *n += 1,
            None => counts.answered.push((method.to_owned(), status, 1)),
        }
        counts.durations.observe(&DURATION_BUCKETS, seconds);
    }

    /// The Prometheus text exposition of every counter, with the store's batch sizes.
    pub fn render(&self, batches: &Histogram) -> String {
        let mut out = String::new();
        out.push_str("# HELP rapport_http_requests_total API requests answered, by route template, method and status.\n");
        out.push_str("# TYPE rapport_http_requests_total counter\n");
        let routes = self.routes.lock().ok();
        let routes = routes.as_deref().into_iter().flatten();
        for (route, counts) in routes.clone() {
            let mut answered: Vec<&(String, u16, u64)> = counts.answered.iter().collect();
            answered.sort_unstable();
            for (method, status, n) in answered {
                let _ = writeln!(
                    out,
                    "rapport_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP rapport_http_request_duration_seconds Time to answer an API request, by route template.\n");
        out.push_str("# TYPE rapport_http_request_duration_seconds histogram\n");
        for (route, counts) in routes {
            counts.durations.render(
                &mut out,
                "rapport_http_request_duration_seconds",
                &format!("route=\"{route}\""),
                &DURATION_BUCKETS,
            );
        }
        out.push_str(
            "# HELP rapport_ingest_batch_size Responses written per group-commit transaction.\n",
        );
        out.push_str("# TYPE rapport_ingest_batch_size histogram\n");
        batches.render(&mut out, "rapport_ingest_batch_size", "", &BATCH_BUCKETS);
        out.push_str("# HELP rapport_score_mismatches_total Responses whose provisional score from the widget differed from the server's.\n");
        out.push_str("# TYPE rapport_score_mismatches_total counter\n");
        let _ = writeln!(
            out,
            "rapport_score_mismatches_total {}",
            self.score_mismatches.load(Ordering::Relaxed)
        );
        out
    }
}
