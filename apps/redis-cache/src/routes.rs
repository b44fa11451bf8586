//! The HTTP API (poem-openapi): cached product reads, invalidation and price
//! changes, sessions, the SSE price stream and the stats; plus problem+json for
//! errors poem raises itself.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use futures_util::stream;
use futures_util::stream::BoxStream;
use poem::Request;
use poem_openapi::auth::Bearer;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{EventStream, Json};
use poem_openapi::{ApiResponse, Object, OpenApi, OpenApiService, SecurityScheme, Tags};
use secrecy::ExposeSecret;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::cache::{Cache, CacheStatus, ReadOptions, Stats};
use crate::error::{ApiError, ErrorResponse, ProblemDoc};
use crate::origin::Product;
use crate::prices::{PriceChange, Prices};
use crate::scenarios::{CACHE_STAMPEDE, HOT_KEY, TTL_TOO_SHORT, active};
use crate::settings::Settings;

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
    fn session_key(&self, token: &str) -> String {
        format!("{}session:{token}", self.settings.redis.key_prefix)
    }
}

/// Groups of operations in the OpenAPI document.
#[derive(Debug, Tags)]
pub enum Tag {
    /// Cached catalog reads and their invalidation.
    Products,
    /// Logins kept in Redis.
    Sessions,
    /// Price changes over pub/sub and SSE.
    Prices,
    /// Cache counters.
    Stats,
}

/// A session token in `Authorization: Bearer`.
#[derive(Debug, SecurityScheme)]
#[oai(ty = "bearer")]
pub struct SessionToken(Bearer);

/// A cached read.
#[derive(Debug, ApiResponse)]
pub enum ProductResponse {
    /// The product; `x-cache` says hit, miss, stale or bypass.
    #[oai(status = 200)]
    Ok(
        Json<Product>,
        #[oai(header = "x-cache")] String,
        #[oai(header = "x-cache-degraded")] Option<String>,
    ),
    /// No such product (remembered for `cache.negative_ttl`).
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(
        Json<ProblemDoc>,
        #[oai(header = "x-cache")] String,
        #[oai(header = "x-cache-degraded")] Option<String>,
    ),
}

/// Nothing to say.
#[derive(Debug, ApiResponse)]
pub enum NoContent {
    /// Done.
    #[oai(status = 204)]
    Done,
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

/// Credentials.
#[derive(Debug, Object)]
pub struct LoginRequest {
    /// 1–64 of letters, digits, `.`, `-`, `_`.
    pub username: String,
    /// The demo password (`sessions.password`).
    pub password: String,
}

/// A session.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Session {
    /// Pass as `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Who is logged in.
    pub username: String,
    /// Seconds until it expires unless used.
    pub expires_in_seconds: u64,
}

/// A created session.
#[derive(Debug, ApiResponse)]
pub enum LoginResponse {
    /// Logged in.
    #[oai(status = 201)]
    Created(Json<Session>),
}

/// The price API's operations.
#[derive(Debug)]
pub struct Api {
    state: AppState,
}

fn degraded(status: CacheStatus) -> Option<String> {
    (status == CacheStatus::Bypass).then(|| DEGRADED.to_owned())
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

fn check_id(id: i64) -> Result<i64, ApiError> {
    if id < 1 {
        return Err(ApiError::BadRequest {
            slug: "invalid-id",
            detail: format!("product id {id} is not positive"),
        });
    }
    Ok(id)
}

fn valid_username(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

#[OpenApi(prefix_path = "/api/v1")]
impl Api {
    /// Read a product through the cache.
    #[oai(
        path = "/products/:id",
        method = "get",
        operation_id = "getProduct",
        tag = "Tag::Products"
    )]
    async fn product(
        &self,
        req: &Request,
        id: Path<i64>,
    ) -> Result<ProductResponse, ErrorResponse> {
        let mut id = check_id(id.0)?;
        if active(req, HOT_KEY) {
            id = self.state.settings.scenarios.hot_key_id;
        }
        let options = ReadOptions {
            coalesce: !active(req, CACHE_STAMPEDE),
            ttl: active(req, TTL_TOO_SHORT).then_some(self.state.settings.scenarios.short_ttl),
        };
        let lookup = self
            .state
            .cache
            .product(id, options)
            .await
            .map_err(ApiError::from)?;
        let status = lookup.status;
        Ok(match lookup.product {
            Some(product) => {
                ProductResponse::Ok(Json(product), status.as_str().to_owned(), degraded(status))
            }
            None => ProductResponse::NotFound(
                ProblemDoc::json(
                    "not-found",
                    "Not found",
                    404,
                    Some(format!("no product {id}")),
                ),
                status.as_str().to_owned(),
                degraded(status),
            ),
        })
    }

    /// Drop a product from the cache.
    #[oai(
        path = "/products/:id/cache",
        method = "delete",
        operation_id = "invalidateProduct",
        tag = "Tag::Products"
    )]
    async fn invalidate(&self, id: Path<i64>) -> Result<NoContent, ErrorResponse> {
        let id = check_id(id.0)?;
        self.state
            .cache
            .invalidate(id)
            .await
            .map_err(ApiError::from)?;
        Ok(NoContent::Done)
    }

    /// Change a product's price at the origin, invalidate it and publish the change.
    #[oai(
        path = "/products/:id/price",
        method = "put",
        operation_id = "setPrice",
        tag = "Tag::Prices"
    )]
    async fn set_price(
        &self,
        id: Path<i64>,
        body: Json<PriceRequest>,
    ) -> Result<PriceResponse, ErrorResponse> {
        let id = check_id(id.0)?;
        if body.price_cents < 0 {
            return Err(ApiError::BadRequest {
                slug: "invalid-price",
                detail: format!("price_cents {} is negative", body.price_cents),
            }
            .into());
        }
        let cache = &self.state.cache;
        let Some(product) = cache
            .origin()
            .set_price(id, body.price_cents)
            .await
            .map_err(ApiError::from)?
        else {
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
                .publish(&mut cache.redis(), &change)
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
    #[oai(
        path = "/prices/stream",
        method = "get",
        operation_id = "streamPrices",
        tag = "Tag::Prices"
    )]
    ///
    /// Without parameters the stream stays open; `max_events` and `max_duration_ms`
    /// (at most 10 minutes) end it, for clients that poll in windows.
    async fn stream(
        &self,
        max_events: Query<Option<u32>>,
        max_duration_ms: Query<Option<u64>>,
    ) -> EventStream<BoxStream<'static, PriceChange>> {
        let mut stream = changes(self.state.prices.listen());
        if let Some(n) = max_events.0 {
            stream = stream.take(n as usize).boxed();
        }
        if let Some(ms) = max_duration_ms.0 {
            let window = Duration::from_millis(ms.min(600_000));
            stream = stream.take_until(tokio::time::sleep(window)).boxed();
        }
        EventStream::new(stream).keep_alive(self.state.settings.prices.keep_alive)
    }

    /// Log in: a session in Redis with `sessions.ttl`.
    #[oai(
        path = "/sessions",
        method = "post",
        operation_id = "login",
        tag = "Tag::Sessions"
    )]
    async fn login(&self, body: Json<LoginRequest>) -> Result<LoginResponse, ErrorResponse> {
        if !valid_username(&body.username) {
            return Err(ApiError::BadRequest {
                slug: "invalid-username",
                detail: "username must be 1–64 of letters, digits, `.`, `-`, `_`".into(),
            }
            .into());
        }
        if body.password != self.state.settings.sessions.password.expose_secret() {
            return Err(ApiError::Unauthorized("wrong user name or password".into()).into());
        }
        let token = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        let ttl = self.state.settings.sessions.ttl.as_secs().max(1);
        let stored: Result<(), _> = redis::cmd("SET")
            .arg(self.state.session_key(&token))
            .arg(&body.username)
            .arg("EX")
            .arg(ttl)
            .query_async(&mut self.state.cache.redis())
            .await;
        stored.map_err(|err| self.redis_error(&err))?;
        Ok(LoginResponse::Created(Json(Session {
            token: Some(token),
            username: body.0.username,
            expires_in_seconds: ttl,
        })))
    }

    /// Who is logged in; refreshes the session's TTL.
    #[oai(
        path = "/sessions/me",
        method = "get",
        operation_id = "me",
        tag = "Tag::Sessions"
    )]
    async fn me(&self, auth: SessionToken) -> Result<Json<Session>, ErrorResponse> {
        let ttl = self.state.settings.sessions.ttl.as_secs().max(1);
        let user: Option<String> = redis::cmd("GETEX")
            .arg(self.state.session_key(&auth.0.token))
            .arg("EX")
            .arg(ttl)
            .query_async(&mut self.state.cache.redis())
            .await
            .map_err(|err| self.redis_error(&err))?;
        let username = user.ok_or_else(|| {
            ApiError::Unauthorized("no such session (expired or logged out)".into())
        })?;
        Ok(Json(Session {
            token: None,
            username,
            expires_in_seconds: ttl,
        }))
    }

    /// Log out.
    #[oai(
        path = "/sessions/me",
        method = "delete",
        operation_id = "logout",
        tag = "Tag::Sessions"
    )]
    async fn logout(&self, auth: SessionToken) -> Result<NoContent, ErrorResponse> {
        let removed: u64 = redis::cmd("DEL")
            .arg(self.state.session_key(&auth.0.token))
            .query_async(&mut self.state.cache.redis())
            .await
            .map_err(|err| self.redis_error(&err))?;
        if removed == 0 {
            return Err(
                ApiError::Unauthorized("no such session (expired or logged out)".into()).into(),
            );
        }
        Ok(NoContent::Done)
    }

    /// Cache counters since start.
    #[oai(
        path = "/stats",
        method = "get",
        operation_id = "stats",
        tag = "Tag::Stats"
    )]
    async fn stats(&self) -> Json<StatsDoc> {
        Json(StatsDoc {
            cache: self.state.cache.stats(),
            subscribed: self.state.prices.is_subscribed(),
            price_messages: self.state.prices.received(),
            stream_listeners: u64::try_from(self.state.prices.listeners()).unwrap_or(u64::MAX),
        })
    }
}

impl Api {
    fn redis_error(&self, err: &redis::RedisError) -> ErrorResponse {
        self.state.cache.redis_failed(err);
        ApiError::Unavailable(format!("Redis is unavailable: {err}")).into()
    }
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

/// The OpenAPI service: the real route table, which `apps/redis-cache/openapi.json`
/// (and so OBI's route patterns) are generated from.
pub fn api(state: AppState) -> OpenApiService<Api, ()> {
    OpenApiService::new(Api { state }, "redis-cache", env!("CARGO_PKG_VERSION")).description(
        "Cache-aside over a slow origin in Redis (TTLs, negative caching, single flight), sessions, and price changes over pub/sub fanned out as Server-Sent Events.",
    )
}
