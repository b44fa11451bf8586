//! The HTTP API (poem-openapi), one module per resource — cached products, prices
//! (changes and their SSE stream), sessions and their carts, stats — and what every
//! handler shares.

pub mod carts;
pub mod prices;
pub mod products;
pub mod sessions;
pub mod stats;

use std::sync::Arc;

use poem_openapi::{ApiResponse, OpenApiService, Tags};

use crate::cache::{Cache, CacheStatus};
use crate::origin::Origin;
use crate::prices::Prices;
use crate::settings::{DEFAULTS, Settings};
use crate::store::Store;

/// The `x-cache-degraded` value when Redis could not be used.
pub const DEGRADED: &str = "redis-unavailable";

/// What handlers share. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The cache (and through it Redis and the origin).
    pub cache: Cache,
    /// The price bus.
    pub prices: Prices,
    /// The loaded configuration.
    pub settings: Arc<Settings>,
}

impl AppState {
    /// The state `settings` describe (nothing connects yet).
    pub fn new(settings: Settings) -> anyhow::Result<Self> {
        let store = Store::new(&settings.redis)?;
        let origin = Origin::new(&settings.origin)?;
        Ok(Self {
            cache: Cache::new(store, origin, settings.cache.clone()),
            prices: Prices::new(),
            settings: Arc::new(settings),
        })
    }

    /// Redis.
    pub fn store(&self) -> &Store {
        self.cache.store()
    }
}

/// Groups of operations in the OpenAPI document.
#[derive(Debug, Tags)]
pub enum Tag {
    /// Cached catalog reads and their invalidation.
    Products,
    /// Logins kept in Redis, and their carts.
    Sessions,
    /// Price changes over pub/sub and SSE.
    Prices,
    /// Cache counters.
    Stats,
}

/// Nothing to say.
#[derive(Debug, ApiResponse)]
pub enum NoContent {
    /// Done.
    #[oai(status = 204)]
    Done,
}

/// `x-cache-degraded` for a read answered without Redis.
fn degraded(status: CacheStatus) -> Option<String> {
    (status == CacheStatus::Bypass).then(|| DEGRADED.to_owned())
}

/// The API's operations, as one type, in the order the document lists them.
pub type Api = (
    products::ProductsApi,
    prices::PricesApi,
    sessions::SessionsApi,
    carts::CartsApi,
    stats::StatsApi,
);

/// The OpenAPI service: the real route table, which `apps/redis-cache/openapi.json`
/// (and so OBI's route patterns) are generated from.
pub fn api(state: AppState) -> OpenApiService<Api, ()> {
    OpenApiService::new(
        (
            products::ProductsApi {
                state: state.clone(),
            },
            prices::PricesApi {
                state: state.clone(),
            },
            sessions::SessionsApi {
                state: state.clone(),
            },
            carts::CartsApi {
                state: state.clone(),
            },
            stats::StatsApi { state },
        ),
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Cache-aside over a slow origin in Redis (TTLs, negative caching, single flight), sessions with their carts, and price changes over pub/sub fanned out as Server-Sent Events.",
    )
}

/// The OpenAPI document as served with the built-in defaults (what `openapi.json` holds).
pub fn openapi_document() -> String {
    let settings: Settings = service_kit::config::load_from(DEFAULTS, None, [])
        .unwrap_or_else(|err| panic!("the built-in defaults must load: {err}"));
    let state = AppState::new(settings)
        .unwrap_or_else(|err| panic!("the built-in defaults must build: {err:#}"));
    format!("{}\n", api(state).spec())
}
