//! Posting responses at one server or several: a closed loop (as fast as they answer) and an
//! open loop (at a fixed rate).
//!
//! In the open loop every request has a scheduled send time, `start + i / rate`, and its
//! latency is measured from that time, not from when a connection got round to sending it.
//! So when the server stalls, the requests that queue behind the stall count their wait
//! (no coordinated omission).
//!
//! Response `i` goes to replica `i mod N`, so load is spread round-robin. Optionally every
//! k-th response is a *pair*: the same body sent to two replicas at the same moment, to
//! check that exactly one stores it and the other answers it as a duplicate. Every answer is
//! remembered by response index, so the caller can check the database against exactly what
//! was acknowledged.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::http::Connection;
use crate::responses::{SURVEY_ID, response_body};

/// Hands out response indices, so that no two requests in a run post the same response
/// (pairs aside, which post one index twice on purpose).
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
    /// Responses are scheduled at this many per second, whatever the answers take (a pair
    /// takes one slot and sends two requests).
    Open(f64),
}

/// What to send, where and for how long.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The servers, one address each; response `i` goes to `replicas[i % N]`.
    pub(crate) replicas: Vec<SocketAddr>,
    /// Concurrent senders; each keeps one keep-alive connection to every replica.
    pub(crate) connections: usize,
    /// How long the phase schedules requests.
    pub(crate) duration: Duration,
    /// How requests are paced.
    pub(crate) pace: Pace,
    /// Every this many responses, one is sent to two replicas at the same moment (to the same
    /// replica over two connections when there is one); `None` for never.
    pub(crate) pair_every: Option<u64>,
    /// Where a sampler reads figures while the phase runs, if one does.
    pub(crate) live: Option<Arc<Live>>,
}

/// Figures since a sampler last looked.
#[derive(Debug, Default)]
pub(crate) struct Interval {
    /// Requests written.
    pub(crate) sent: u64,
    /// Answers 200–299.
    pub(crate) success: u64,
    /// Any other answer, or a failed exchange.
    pub(crate) failed: u64,
    /// Latency of every answered request, in microseconds, unsorted.
    pub(crate) latencies_us: Vec<u64>,
}

/// The running figures a sampler takes every few seconds, and its way to end the phase early.
#[derive(Debug, Default)]
pub(crate) struct Live {
    interval: Mutex<Interval>,
    stopped: AtomicBool,
}

impl Live {
    fn update(&self, change: impl FnOnce(&mut Interval)) {
        if let Ok(mut interval) = self.interval.lock() {
            change(&mut interval);
        }
    }

    /// The figures since the last call, starting afresh.
    pub(crate) fn take(&self) -> Interval {
        self.interval
            .lock()
            .map(|mut interval| std::mem::take(&mut *interval))
            .unwrap_or_default()
    }

    /// Ends the phase: no request is sent after this (the server under test has died, say).
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }

    fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }
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
    /// Answers 201 (`stored`).
    pub(crate) created: u64,
    /// Answers 200 with status `duplicate`: the id was stored already.
    pub(crate) duplicates: u64,
    /// Any other answer, or a failed connection.
    pub(crate) failed: u64,
    /// The response index of every 2xx answer (an index twice if both of a pair got one).
    pub(crate) acknowledged: Vec<u64>,
    /// The response index of every 201 answer.
    pub(crate) created_indices: Vec<u64>,
    /// 2xx answers per replica.
    pub(crate) per_replica: Vec<u64>,
    /// Responses sent to two replicas at once.
    pub(crate) pairs: u64,
    /// Pairs answered as they should be: one 201 and one `duplicate`.
    pub(crate) pairs_split: u64,
}

impl PhaseResult {
    /// Successful answers per second.
    pub(crate) fn throughput(&self) -> f64 {
        self.success as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency at quantile `q` (0–1), in milliseconds.
    pub(crate) fn quantile_ms(&self, q: f64) -> f64 {
        quantile_ms(&self.latencies_us, q)
    }

    /// The largest latency, in milliseconds.
    pub(crate) fn max_ms(&self) -> f64 {
        self.latencies_us
            .last()
            .map_or(f64::NAN, |&max| max as f64 / 1000.0)
    }

    /// Adds another worker's or phase's figures to these (latencies left unsorted).
    pub(crate) fn absorb(&mut self, other: PhaseResult) {
        self.latencies_us.extend(other.latencies_us);
        self.success += other.success;
        self.created += other.created;
        self.duplicates += other.duplicates;
        self.failed += other.failed;
        self.acknowledged.extend(other.acknowledged);
        self.created_indices.extend(other.created_indices);
        if self.per_replica.len() < other.per_replica.len() {
            self.per_replica.resize(other.per_replica.len(), 0);
        }
        for (total, count) in self.per_replica.iter_mut().zip(other.per_replica) {
            *total += count;
        }
        self.pairs += other.pairs;
        self.pairs_split += other.pairs_split;
    }

    /// Counts one exchange with `replica` about response `index`, answered after `latency`.
    /// Returns the status, or `None` if the exchange failed.
    fn record(
        &mut self,
        live: Option<&Live>,
        replica: usize,
        index: u64,
        latency: Duration,
        answer: &anyhow::Result<(u16, Vec<u8>)>,
    ) -> Option<u16> {
        let latency_us = latency.as_micros() as u64;
        let status = match answer {
            Ok((status, body)) => {
                self.latencies_us.push(latency_us);
                if (200..300).contains(status) {
                    self.success += 1;
                    self.acknowledged.push(index);
                    self.per_replica[replica] += 1;
                    if *status == 201 {
                        self.created += 1;
                        self.created_indices.push(index);
                    } else if *status == 200
                        && body.windows(11).any(|window| window == b"\"duplicate\"")
                    {
                        self.duplicates += 1;
                    }
                } else {
                    self.failed += 1;
                    report_failure(format_args!(
                        "replica {} answered {status} for response {index}: {}",
                        replica + 1,
                        String::from_utf8_lossy(body)
                    ));
                }
                Some(*status)
            }
            Err(error) => {
                self.failed += 1;
                report_failure(format_args!(
                    "request to replica {} for response {index} failed: {error:#}",
                    replica + 1
                ));
                None
            }
        };
        if let Some(live) = live {
            live.update(|interval| {
                if status.is_some_and(|status| (200..300).contains(&status)) {
                    interval.success += 1;
                } else {
                    interval.failed += 1;
                }
                if status.is_some() {
                    interval.latencies_us.push(latency_us);
                }
            });
        }
        status
    }
}

/// The latency at quantile `q` (0–1) of sorted microseconds, in milliseconds.
pub(crate) fn quantile_ms(sorted_us: &[u64], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted_us.len() as f64).ceil() as usize).clamp(1, sorted_us.len());
    sorted_us[rank - 1] as f64 / 1000.0
}

/// Prints the first few failures of a run in full; after that they are only counted, so a
/// failing server cannot flood the log.
fn report_failure(message: std::fmt::Arguments<'_>) {
    static PRINTED: AtomicU64 = AtomicU64::new(0);
    let printed = PRINTED.fetch_add(1, Ordering::Relaxed);
    if printed < 20 {
        eprintln!("{message}");
    } else if printed == 20 {
        eprintln!("(further failures are counted, not printed)");
    }
}

/// Posts responses to one server over `connections` keep-alive connections for `duration`.
pub(crate) async fn run(
    address: SocketAddr,
    indices: Arc<Indices>,
    connections: usize,
    duration: Duration,
    pace: Pace,
) -> anyhow::Result<PhaseResult> {
    drive(
        indices,
        Plan {
            replicas: vec![address],
            connections,
            duration,
            pace,
            pair_every: None,
            live: None,
        },
    )
    .await
}

/// Carries out `plan`, taking response indices from `indices`.
pub(crate) async fn drive(indices: Arc<Indices>, plan: Plan) -> anyhow::Result<PhaseResult> {
    anyhow::ensure!(!plan.replicas.is_empty(), "no server to send to");
    let path: Arc<str> = format!("/api/v1/surveys/{SURVEY_ID}/responses").into();
    let n_replicas = plan.replicas.len();
    // A pair needs two connections even when there is one replica.
    let n_slots = if plan.pair_every.is_some() {
        n_replicas.max(2)
    } else {
        n_replicas
    };
    let started = Instant::now();
    let end = started + plan.duration;
    let scheduled = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..plan.connections {
        let (indices, scheduled, path, plan) = (
            Arc::clone(&indices),
            Arc::clone(&scheduled),
            Arc::clone(&path),
            plan.clone(),
        );
        workers.push(tokio::spawn(async move {
            // Slot `s` is a connection to replica `s % N`; `None` after a failed exchange,
            // until the next request to it connects again.
            let mut connections = Vec::with_capacity(n_slots);
            for slot in 0..n_slots {
                connections.push(Some(
                    Connection::open(plan.replicas[slot % n_replicas]).await?,
                ));
            }
            let live = plan.live.as_deref();
            let address = |slot: usize| plan.replicas[slot % n_replicas];
            let mut result = PhaseResult {
                per_replica: vec![0; n_replicas],
                ..PhaseResult::default()
            };
            while !live.is_some_and(Live::is_stopped) {
                let start = match plan.pace {
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
                let index = indices.next();
                let body = response_body(index);
                let first = (index % n_replicas as u64) as usize;
                if plan.pair_every.is_some_and(|every| index % every == 0) {
                    // The same response to two replicas at the same moment: both requests
                    // are written before either answer is read.
                    let second = (first + 1) % n_slots;
                    if let Some(live) = live {
                        live.update(|interval| interval.sent += 2);
                    }
                    let (connection_a, connection_b) = two_mut(&mut connections, first, second);
                    let (answer_a, answer_b) = tokio::join!(
                        async {
                            (
                                exchange(connection_a, address(first), &path, &body).await,
                                start.elapsed(),
                            )
                        },
                        async {
                            (
                                exchange(connection_b, address(second), &path, &body).await,
                                start.elapsed(),
                            )
                        },
                    );
                    let status_a = result.record(live, first, index, answer_a.1, &answer_a.0);
                    let status_b =
                        result.record(live, second % n_replicas, index, answer_b.1, &answer_b.0);
                    result.pairs += 1;
                    if matches!(
                        (status_a, status_b),
                        (Some(201), Some(200)) | (Some(200), Some(201))
                    ) {
                        result.pairs_split += 1;
                    }
                } else {
                    if let Some(live) = live {
                        live.update(|interval| interval.sent += 1);
                    }
                    let answer =
                        exchange(&mut connections[first], address(first), &path, &body).await;
                    result.record(live, first, index, start.elapsed(), &answer);
                }
                if matches!(plan.pace, Pace::Closed) && connections.iter().any(Option::is_none) {
                    // A server that refuses connections answers at once; do not spin on it.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
            anyhow::Ok(result)
        }));
    }
    let mut total = PhaseResult {
        per_replica: vec![0; n_replicas],
        ..PhaseResult::default()
    };
    for worker in workers {
        total.absorb(worker.await??);
    }
    total.elapsed = started.elapsed();
    total.latencies_us.sort_unstable();
    Ok(total)
}

/// Posts `body` to `path` over `connection`, connecting to `address` first if there is no
/// connection; a connection whose exchange fails is dropped, since it is unusable after.
async fn exchange(
    connection: &mut Option<Connection>,
    address: SocketAddr,
    path: &str,
    body: &str,
) -> anyhow::Result<(u16, Vec<u8>)> {
    let open = match connection {
        Some(open) => open,
        None => connection.insert(Connection::open(address).await?),
    };
    let answer = open
        .send(
            "POST",
            path,
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
        .await;
    if answer.is_err() {
        *connection = None;
    }
    answer
}

/// Two distinct elements of a slice, both mutable.
fn two_mut<T>(items: &mut [T], a: usize, b: usize) -> (&mut T, &mut T) {
    assert_ne!(a, b, "a pair needs two connections");
    if a < b {
        let (left, right) = items.split_at_mut(b);
        (&mut left[a], &mut right[0])
    } else {
        let (left, right) = items.split_at_mut(a);
        (&mut right[0], &mut left[b])
    }
}
