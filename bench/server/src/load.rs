//! Posting responses at the server: a closed loop (as fast as it answers) and an open loop
//! (at a fixed rate).
//!
//! In the open loop every request has a scheduled send time, `start + i / rate`, and its
//! latency is measured from that time, not from when a connection got round to sending it.
//! So when the server stalls, the requests that queue behind the stall count their wait
//! (no coordinated omission).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::http::Connection;
use crate::responses::{response_body, SURVEY_ID};

/// Hands out response indices, so that no two requests in a run post the same response.
#[derive(Debug, Default)]
pub(crate) struct Indices(AtomicU64);

impl Indices {
    fn next(&self) -> u64 {
        self.0.fetch_add(1, Ordering::Relaxed)
    }
}

/// How requests are paced.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pace {
    /// Each connection sends its next request as soon as the previous one is answered.
    Closed,
    /// Requests are scheduled at this many per second, whatever the answers take.
    Open(f64),
}

/// What one phase measured.
#[derive(Debug, Default)]
pub(crate) struct PhaseResult {
    /// Wall time of the phase.
    pub(crate) elapsed: Duration,
    /// Latency of every request, in microseconds, sorted.
    pub(crate) latencies_us: Vec<u64>,
    /// Answers 200–299.
    pub(crate) success: u64,
    /// Answers 201 (`stored`); every generated response is new, so this should equal
    /// `success`.
    pub(crate) created: u64,
    /// Any other answer, or a failed connection.
    pub(crate) failed: u64,
}

impl PhaseResult {
    /// Successful responses per second.
    pub(crate) fn throughput(&self) -> f64 {
        self.success as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency at quantile `q` (0–1), in milliseconds.
    pub(crate) fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let rank = ((q * self.latencies_us.len() as f64).ceil() as usize).clamp(1, self.latencies_us.len());
        self.latencies_us[rank - 1] as f64 / 1000.0
    }

    /// The largest latency, in milliseconds.
    pub(crate) fn max_ms(&self) -> f64 {
        self.latencies_us.last().map_or(f64::NAN, |&max| max as f64 / 1000.0)
    }
}

/// Posts responses over `connections` keep-alive connections for `duration`.
pub(crate) async fn run(address: SocketAddr, indices: Arc<Indices>, connections: usize, duration: Duration, pace: Pace) -> anyhow::Result<PhaseResult> {
    let path = format!("/api/v1/surveys/{SURVEY_ID}/responses");
    let started = Instant::now();
    let end = started + duration;
    let scheduled = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..connections {
        let (indices, scheduled, path) = (Arc::clone(&indices), Arc::clone(&scheduled), path.clone());
        workers.push(tokio::spawn(async move {
            let mut connection = Connection::open(address).await?;
            let mut result = PhaseResult::default();
            loop {
                let start = match pace {
                    Pace::Closed => {
                        let now = Instant::now();
                        if now >= end {
                            break;
                        }
                        now
                    }
                    Pace::Open(rate) => {
                        let slot = scheduled.fetch_add(1, Ordering::Relaxed);
                        let at = started + Duration::from_secs_f64(slot as f64 / rate);
                        if at >= end {
                            break;
                        }
                        tokio::time::sleep_until(at.into()).await;
                        at
                    }
                };
                let body = response_body(indices.next());
                match connection.send("POST", &path, &[("content-type", "application/json")], body.as_bytes()).await {
                    Ok((status, _)) => {
                        result.latencies_us.push(start.elapsed().as_micros() as u64);
                        if (200..300).contains(&status) {
                            result.success += 1;
                            result.created += u64::from(status == 201);
                        } else {
                            result.failed += 1;
                        }
                    }
                    Err(error) => {
                        // The connection is unusable after a failed exchange; count the failure
                        // and open a new one.
                        eprintln!("request failed: {error:#}");
                        result.failed += 1;
                        connection = Connection::open(address).await?;
                    }
                }
            }
            anyhow::Ok(result)
        }));
    }
    let mut total = PhaseResult::default();
    for worker in workers {
        let result = worker.await??;
        total.latencies_us.extend(result.latencies_us);
        total.success += result.success;
        total.created += result.created;
        total.failed += result.failed;
    }
    total.elapsed = started.elapsed();
    total.latencies_us.sort_unstable();
    Ok(total)
}
