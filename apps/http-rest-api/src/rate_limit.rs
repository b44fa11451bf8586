//! Per-client rate limiting: one token bucket per client (the user of a valid bearer
//! token, else its address), answering 429 with `Retry-After` when a bucket is empty.
//! The number of buckets is bounded; the longest-idle ones go first.
//!
//! A token that does not verify counts as no token: keyed by the raw bearer string, a
//! client could send a fresh junk token per request and never be limited, and each
//! would take a bucket, evicting honest clients' at `max_clients`.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::http::{StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use service_kit::problem::Problem;

use crate::auth::Auth;
use crate::settings::RateLimitSettings;

/// Only these paths are limited: probes, admin and docs never are.
const LIMITED_PREFIX: &str = "/api/";

/// The buckets of every client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    settings: RateLimitSettings,
    buckets: Arc<Mutex<HashMap<u64, Bucket>>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    /// Buckets as configured.
    pub fn new(settings: RateLimitSettings) -> Self {
        Self {
            settings,
            buckets: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Takes one token from `client`'s bucket, or says how long until one is there.
    pub fn check(&self, client: u64, now: Instant) -> Result<(), Duration> {
        if !self.settings.enabled {
            return Ok(());
        }
        let rate = self.settings.requests_per_second.max(f64::MIN_POSITIVE);
        let burst = f64::from(self.settings.burst.max(1));
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if !buckets.contains_key(&client) && buckets.len() >= self.settings.max_clients.max(1) {
            evict(&mut buckets, now, rate, burst);
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }

    /// How many clients are tracked.
    pub fn clients(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// Drops buckets that have refilled (they hold no information), else the oldest.
fn evict(buckets: &mut HashMap<u64, Bucket>, now: Instant, rate: f64, burst: f64) {
    let before = buckets.len();
    buckets.retain(|_, b| {
        b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * rate < burst
    });
    if buckets.len() == before
        && let Some(oldest) = buckets
            .iter()
            .min_by_key(|(_, b)| b.updated)
            .map(|(k, _)| *k)
    {
        buckets.remove(&oldest);
    }
}

/// Who a request comes from: the user of its bearer token when the token verifies,
/// else its address (no port).
pub fn client_key(req: &Request, auth: &Auth) -> u64 {
    let mut hasher = DefaultHasher::new();
    match req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|token| auth.verify(token).ok())
    {
        Some(claims) => ("user", claims.sub).hash(&mut hasher),
        None => match req.remote_addr().as_socket_addr() {
            Some(addr) => ("addr", addr.ip()).hash(&mut hasher),
            None => ("addr", req.remote_addr().to_string()).hash(&mut hasher),
        },
    }
    hasher.finish()
}

impl RateLimiter {
    /// The middleware, telling clients apart with `auth` (a token counts only when
    /// it verifies).
    pub fn with_auth(self, auth: Auth) -> KeyedLimiter {
        KeyedLimiter {
            limiter: self,
            auth,
        }
    }
}

/// A [`RateLimiter`] that knows valid tokens from junk ones: the middleware.
#[derive(Clone)]
pub struct KeyedLimiter {
    limiter: RateLimiter,
    auth: Auth,
}

impl std::fmt::Debug for KeyedLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedLimiter")
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

impl<E: Endpoint> Middleware<E> for KeyedLimiter {
    type Output = RateLimited<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RateLimited {
            inner,
            keyed: self.clone(),
        }
    }
}

/// The endpoint [`KeyedLimiter`] wraps.
#[derive(Debug)]
pub struct RateLimited<E> {
    inner: E,
    keyed: KeyedLimiter,
}

impl<E: Endpoint> Endpoint for RateLimited<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let limiter = &self.keyed.limiter;
        // Off, the limiter costs nothing: no client key (which verifies a bearer
        // token's signature), no clock read.
        if limiter.settings.enabled
            && req.uri().path().starts_with(LIMITED_PREFIX)
            && let Err(wait) = limiter.check(client_key(&req, &self.keyed.auth), Instant::now())
        {
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            let problem = Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
            )
            .with_detail(format!(
                "this client may send {} requests per second (bursts of {}); retry in {seconds}s",
                limiter.settings.requests_per_second, limiter.settings.burst
            ))
            .with("retry_after_seconds", seconds)
            .with_header(header::RETRY_AFTER, seconds.to_string());
            // Answered before the body is read: the connection cannot be reused for
            // the next request, so say so instead of dropping it under the client.
            let unread_body = req.headers().contains_key(header::TRANSFER_ENCODING)
                || req
                    .headers()
                    .get(header::CONTENT_LENGTH)
                    .is_some_and(|length| length.as_bytes() != b"0");
            let problem = if unread_body {
                problem.with_header(header::CONNECTION, "close")
            } else {
                problem
            };
            return Ok(problem.into_response());
        }
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(enabled: bool, max_clients: usize) -> RateLimiter {
        RateLimiter::new(RateLimitSettings {
            enabled,
            requests_per_second: 2.0,
            burst: 3,
            max_clients,
        })
    }

    #[test]
    fn a_burst_passes_then_the_client_waits_for_the_refill() {
        let limiter = limiter(true, 10);
        let now = Instant::now();
        assert!((0..3).all(|_| limiter.check(1, now).is_ok()));
        let wait = limiter.check(1, now).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        // Another client has its own bucket.
        assert!(limiter.check(2, now).is_ok());
        assert!(limiter.check(1, now + Duration::from_millis(500)).is_ok());
    }

    #[test]
    fn switched_off_nothing_is_limited() {
        let limiter = limiter(false, 10);
        let now = Instant::now();
        assert!((0..100).all(|_| limiter.check(1, now).is_ok()));
    }

    #[test]
    fn the_number_of_clients_is_bounded() {
        let limiter = limiter(true, 5);
        let now = Instant::now();
        for client in 0..50 {
            limiter.check(client, now).unwrap();
        }
        assert!(limiter.clients() <= 5);
    }
}
