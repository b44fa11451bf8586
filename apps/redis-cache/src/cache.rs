//! Cache-aside over the origin in Redis: fresh, stale and negative entries, single
//! flight per key, and the counters `/api/v1/stats` reports.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use crate::origin::{Origin, OriginError, Product};
use crate::settings::CacheSettings;
use crate::store::{Store, StoreError};

/// How a read was answered (the `x-cache` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    /// Fresh entry in Redis.
    Hit,
    /// Loaded from the origin and stored.
    Miss,
    /// Expired entry served while a refresh runs.
    Stale,
    /// Redis unavailable: straight from the origin.
    Bypass,
}

impl CacheStatus {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Miss => "miss",
            Self::Stale => "stale",
            Self::Bypass => "bypass",
        }
    }
}

/// A read's result.
#[derive(Debug, Clone)]
pub struct Lookup {
    /// The product, or `None` when the origin has none.
    pub product: Option<Product>,
    /// How it was answered.
    pub status: CacheStatus,
}

/// What is stored under a product's key.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    /// `None` remembers that the origin has no such product.
    product: Option<Product>,
    /// Milliseconds since the epoch until which the entry is fresh.
    fresh_until: u64,
}

/// How one read should behave (from the request's fault decision).
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// Coalesce concurrent misses (off under `cache_stampede`).
    pub coalesce: bool,
    /// TTL override for fills (`ttl_too_short`).
    pub ttl: Option<Duration>,
}

/// The counters of `/api/v1/stats`.
#[derive(Debug, Default)]
pub struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    stale: AtomicU64,
    negative_hits: AtomicU64,
    bypassed: AtomicU64,
    coalesced_waits: AtomicU64,
    redis_errors: AtomicU64,
    invalidations: AtomicU64,
}

/// Snapshot of the counters.
#[derive(Debug, Clone, Object)]
pub struct Stats {
    /// Reads answered from a fresh entry (negative ones included).
    pub hits: u64,
    /// Reads that loaded from the origin.
    pub misses: u64,
    /// Reads answered from an expired entry while it was refreshed.
    pub stale: u64,
    /// Hits that remembered a missing product.
    pub negative_hits: u64,
    /// Reads answered by the origin because Redis was unavailable.
    pub bypassed: u64,
    /// Calls to the origin.
    pub origin_calls: u64,
    /// Reads that waited for another request's load of the same key.
    pub coalesced_waits: u64,
    /// Redis commands that failed.
    pub redis_errors: u64,
    /// Explicit invalidations.
    pub invalidations: u64,
    /// `hits / (hits + misses + stale)`, 0 before any read.
    pub hit_ratio: f64,
}

type Flight = Arc<OnceCell<Result<Option<Product>, OriginError>>>;

/// The cache, cheap to clone.
#[derive(Debug, Clone)]
pub struct Cache {
    store: Store,
    origin: Origin,
    settings: CacheSettings,
    flights: Arc<Mutex<HashMap<i64, Flight>>>,
    counters: Arc<Counters>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Cache {
    /// A cache over `origin` in `store`.
    pub fn new(store: Store, origin: Origin, settings: CacheSettings) -> Self {
        Self {
            store,
            origin,
            settings,
            flights: Arc::default(),
            counters: Arc::default(),
        }
    }

    /// The counters now.
    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (hits, misses, stale) = (get(&c.hits), get(&c.misses), get(&c.stale));
        let reads = hits + misses + stale;
        Stats {
            hits,
            misses,
            stale,
            negative_hits: get(&c.negative_hits),
            bypassed: get(&c.bypassed),
            origin_calls: self.origin.calls(),
            coalesced_waits: get(&c.coalesced_waits),
            redis_errors: get(&c.redis_errors),
            invalidations: get(&c.invalidations),
            // A ratio of counters: precision beyond 2^52 reads does not matter.
            #[allow(clippy::cast_precision_loss)]
            hit_ratio: if reads == 0 {
                0.0
            } else {
                hits as f64 / reads as f64
            },
        }
    }

    /// Counts a failed Redis command (sessions and prices use it too).
    pub fn redis_failed(&self, err: &StoreError) {
        bump(&self.counters.redis_errors);
        tracing::warn!(error = %err, "redis command failed");
    }

    /// The store the cache keeps its entries in.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Reads product `id` through the cache.
    pub async fn product(&self, id: i64, options: ReadOptions) -> Result<Lookup, OriginError> {
        let cached = match self.store.cached_product(id).await {
            Ok(cached) => cached,
            Err(err) => {
                self.redis_failed(&err);
                bump(&self.counters.bypassed);
                let product = self.origin.product(id).await?;
                return Ok(Lookup {
                    product,
                    status: CacheStatus::Bypass,
                });
            }
        };
        let entry = cached.and_then(|text| serde_json::from_str::<Entry>(&text).ok());
        match entry {
            Some(entry) if entry.fresh_until > now_ms() => {
                bump(&self.counters.hits);
                if entry.product.is_none() {
                    bump(&self.counters.negative_hits);
                }
                Ok(Lookup {
                    product: entry.product,
                    status: CacheStatus::Hit,
                })
            }
            Some(entry) => {
                bump(&self.counters.stale);
                let cache = self.clone();
                tokio::spawn(async move {
                    let _ = cache.load(id, options).await;
                });
                Ok(Lookup {
                    product: entry.product,
                    status: CacheStatus::Stale,
                })
            }
            None => {
                bump(&self.counters.misses);
                let product = self.load(id, options).await?;
                Ok(Lookup {
                    product,
                    status: CacheStatus::Miss,
                })
            }
        }
    }

    /// Loads from the origin and stores, once per key at a time unless `coalesce` is off.
    async fn load(&self, id: i64, options: ReadOptions) -> Result<Option<Product>, OriginError> {
        if !options.coalesce {
            return self.fill(id, options).await;
        }
        let flight = {
            let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            match flights.get(&id) {
                Some(flight) => {
                    bump(&self.counters.coalesced_waits);
                    flight.clone()
                }
                None => {
                    let flight = Flight::default();
                    flights.insert(id, flight.clone());
                    flight
                }
            }
        };
        let result = flight.get_or_init(|| self.fill(id, options)).await.clone();
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        if flights.get(&id).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
            flights.remove(&id);
        }
        result
    }

    /// One origin call and one SET with the entry's lifetime.
    async fn fill(&self, id: i64, options: ReadOptions) -> Result<Option<Product>, OriginError> {
        let product = self.origin.product(id).await?;
        let (fresh, keep) = match (&product, options.ttl) {
            (_, Some(short)) => (short, short),
            (Some(_), None) => (
                self.settings.ttl,
                self.settings.ttl + self.settings.stale_ttl,
            ),
            (None, None) => (self.settings.negative_ttl, self.settings.negative_ttl),
        };
        let entry = Entry {
            product: product.clone(),
            fresh_until: now_ms() + ms(fresh),
        };
        let text = serde_json::to_string(&entry).unwrap_or_default();
        if let Err(err) = self.store.cache_product(id, &text, keep).await {
            self.redis_failed(&err);
        }
        Ok(product)
    }

    /// Drops product `id` from the cache; whether an entry existed.
    pub async fn invalidate(&self, id: i64) -> Result<bool, StoreError> {
        match self.store.forget_product(id).await {
            Ok(existed) => {
                bump(&self.counters.invalidations);
                Ok(existed)
            }
            Err(err) => {
                self.redis_failed(&err);
                Err(err)
            }
        }
    }

    /// The origin behind the cache.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }
}
