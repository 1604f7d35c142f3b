//! Per-client rate limiting of response ingest: a token bucket per client address.
//!
//! The bucket lives in this process. One server is exact; several replicas each allow the
//! configured rate, so the effective limit grows with their number. The widget treats a 429
//! like an outage and retries later, so a limited response is delayed, never lost.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many requests a client may make: a burst, refilled at a steady rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Requests a client may make at once.
    pub burst: u32,
    /// Requests per minute a client may sustain.
    pub per_minute: u32,
}

/// The buckets of all clients seen recently.
#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<Option<IpAddr>, (f64, Instant)>>,
}

/// Most clients tracked before full buckets are forgotten, so memory stays bounded.
const MAX_TRACKED: usize = 100_000;

impl RateLimiter {
    /// A limiter allowing `limit` per client.
    pub fn new(limit: RateLimit) -> Self {
        RateLimiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `client`'s bucket, or says how long to wait.
    pub fn check(&self, client: Option<IpAddr>) -> Result<(), Duration> {
        let capacity = f64::from(self.limit.burst.max(1));
        let per_second = f64::from(self.limit.per_minute.max(1)) / 60.0;
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_TRACKED {
            buckets.retain(|_, (tokens, last)| {
                *tokens + now.duration_since(*last).as_secs_f64() * per_second < capacity
            });
        }
        let (tokens, last) = buckets.entry(client).or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * per_second).min(capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / per_second).max(Duration::from_secs(1)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_refused_per_client() {
        let limiter = RateLimiter::new(RateLimit {
            burst: 2,
            per_minute: 1,
        });
        let (one, two) = (
            Some("127.0.0.1".parse().unwrap()),
            Some("127.0.0.2".parse().unwrap()),
        );
        assert!(limiter.check(one).is_ok() && limiter.check(one).is_ok());
        let wait = limiter.check(one).unwrap_err();
        assert!(wait > Duration::from_secs(50), "{wait:?}");
        assert!(
            limiter.check(two).is_ok(),
            "another client has its own bucket"
        );
    }
}
