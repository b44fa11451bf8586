//! `/api/v1/stats`: the cache's counters and the price subscriber's state.

use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::{AppState, Tag};
use crate::cache::Stats;

/// The stats resource.
#[derive(Debug)]
pub struct StatsApi {
    /// Shared state.
    pub state: AppState,
}

/// `/api/v1/stats`.
#[derive(Debug, Object)]
pub struct StatsDoc {
    /// Cache counters.
    pub cache: Stats,
    /// Whether the price subscriber is subscribed now.
    pub subscribed: bool,
    /// Price messages received from Redis.
    pub price_messages: u64,
    /// SSE clients connected now.
    pub stream_listeners: u64,
}

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Stats")]
impl StatsApi {
    /// Cache counters since start.
    #[oai(path = "/stats", method = "get", operation_id = "stats")]
    async fn stats(&self) -> Json<StatsDoc> {
        let prices = &self.state.prices;
        Json(StatsDoc {
            cache: self.state.cache.stats(),
            subscribed: prices.is_subscribed(),
            price_messages: prices.received(),
            stream_listeners: u64::try_from(prices.listeners()).unwrap_or(u64::MAX),
        })
    }
}
