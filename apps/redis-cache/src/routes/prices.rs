//! `/api/v1/products/{id}/price` and `/api/v1/prices/stream`: a price change goes to
//! the origin, invalidates the cached product and is published on Redis; every
//! instance's subscriber fans it out to its Server-Sent-Events clients.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{EventStream, Json};
use poem_openapi::{ApiResponse, Object, OpenApi};
use service_kit::problem::status::{
    BAD_GATEWAY, BAD_REQUEST, NOT_FOUND, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE,
};
use tokio::sync::broadcast::{self, error::RecvError};

use super::{AppState, DEGRADED, Tag, check_id};
use crate::error::{ApiError, Errors};
use crate::origin::Product;
use crate::prices::PriceChange;

/// Price operations.
#[derive(Debug)]
pub struct PricesApi {
    /// Shared state.
    pub state: AppState,
}

/// A new price.
#[derive(Debug, Object)]
pub struct PriceRequest {
    /// Unit price in cents, ≥ 0.
    pub price_cents: i64,
}

/// A changed product.
#[derive(Debug, ApiResponse)]
pub enum PriceResponse {
    /// Changed at the origin, invalidated and published (`x-cache-degraded` when Redis
    /// was unavailable, so neither happened).
    #[oai(status = 200)]
    Ok(
        Json<Product>,
        #[oai(header = "x-cache-degraded")] Option<String>,
    ),
}

/// A listener's changes as a stream; what a slow listener missed is skipped.
fn changes(receiver: broadcast::Receiver<PriceChange>) -> BoxStream<'static, PriceChange> {
    stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(item) => return Some((item, receiver)),
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return None,
            }
        }
    })
    .boxed()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Prices")]
impl PricesApi {
    /// Change a product's price at the origin, invalidate it and publish the change.
    #[oai(
        path = "/products/:id/price",
        method = "put",
        operation_id = "setPrice"
    )]
    async fn set_price(
        &self,
        id: Path<i64>,
        body: Json<PriceRequest>,
    ) -> Result<
        PriceResponse,
        Errors<
            { BAD_REQUEST | NOT_FOUND | PAYLOAD_TOO_LARGE | UNSUPPORTED_MEDIA_TYPE | BAD_GATEWAY },
        >,
    > {
        let id = check_id(id.0)?;
        if body.price_cents < 0 {
            return Err(ApiError::BadRequest {
                slug: "invalid-price",
                detail: format!("price_cents {} is negative", body.price_cents),
            }
            .into());
        }
        let cache = &self.state.cache;
        let Some(product) = cache.origin().set_price(id, body.price_cents).await? else {
            return Err(ApiError::NotFound(format!("no product {id}")).into());
        };
        let change = PriceChange {
            product_id: id,
            price_cents: product.price_cents,
            changed_at_ms: now_ms(),
        };
        let published = match cache.invalidate(id).await {
            Ok(_) => self
                .state
                .prices
                .publish(self.state.store(), &change)
                .await
                .map_err(|err| cache.redis_failed(&err)),
            Err(_) => Err(()),
        };
        Ok(PriceResponse::Ok(
            Json(product),
            published.is_err().then(|| DEGRADED.to_owned()),
        ))
    }

    /// Stream price changes as Server-Sent Events.
    ///
    /// Without parameters the stream stays open; `max_events` (1 to 100 000) and
    /// `max_duration_ms` (1 to 600 000, ten minutes) end it, for clients that poll in
    /// windows.
    #[oai(path = "/prices/stream", method = "get", operation_id = "streamPrices")]
    async fn stream(
        &self,
        #[oai(validator(minimum(value = "1"), maximum(value = "100000")))] max_events: Query<
            Option<u32>,
        >,
        #[oai(validator(minimum(value = "1"), maximum(value = "600000")))] max_duration_ms: Query<
            Option<u64>,
        >,
    ) -> Result<EventStream<BoxStream<'static, PriceChange>>, Errors<{ BAD_REQUEST }>> {
        let mut stream = changes(self.state.prices.listen());
        if let Some(n) = max_events.0 {
            stream = stream.take(n as usize).boxed();
        }
        if let Some(ms) = max_duration_ms.0 {
            let window = Duration::from_millis(ms);
            stream = stream.take_until(tokio::time::sleep(window)).boxed();
        }
        Ok(EventStream::new(stream).keep_alive(self.state.settings.prices.keep_alive))
    }
}
