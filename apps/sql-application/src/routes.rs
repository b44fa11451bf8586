//! The HTTP API (poem-openapi), one module per resource, and what every handler
//! shares: the state, paging, and the error statuses each kind of operation documents.

pub mod customers;
pub mod orders;
pub mod products;
pub mod reports;

use std::sync::Arc;

use poem::Request;
use poem_openapi::{OpenApiService, Tags};
use service_kit::faults::middleware::is_active;
use service_kit::problem::status::{
    BAD_REQUEST, CONFLICT, INTERNAL, NOT_FOUND, PAYLOAD_TOO_LARGE, UNAVAILABLE, UNPROCESSABLE,
    UNSUPPORTED_MEDIA_TYPE,
};

use crate::domain::parse_cursor;
use crate::error::{ApiError, Errors};
use crate::scenarios::POOL_EXHAUSTION;
use crate::settings::{DEFAULTS, Settings};
use crate::store::{self, Pool};

/// What writing a resource from a JSON body can answer: an unreadable body or
/// parameter, a conflict with the stored state, another content type, invalid fields,
/// a bug, PostgreSQL away.
pub type CreateErrors = Errors<
    {
        BAD_REQUEST
            | CONFLICT
            | PAYLOAD_TOO_LARGE
            | UNSUPPORTED_MEDIA_TYPE
            | UNPROCESSABLE
            | INTERNAL
            | UNAVAILABLE
    },
>;
/// What replacing a resource can answer: as creating, and 404.
pub type UpdateErrors = Errors<
    {
        BAD_REQUEST
            | NOT_FOUND
            | CONFLICT
            | PAYLOAD_TOO_LARGE
            | UNSUPPORTED_MEDIA_TYPE
            | UNPROCESSABLE
            | INTERNAL
            | UNAVAILABLE
    },
>;
/// What reading one resource can answer.
pub type GetErrors = Errors<{ BAD_REQUEST | NOT_FOUND | INTERNAL | UNAVAILABLE }>;
/// What a listing or a report can answer.
pub type ListErrors = Errors<{ BAD_REQUEST | INTERNAL | UNAVAILABLE }>;
/// What deleting can answer: 409 when other rows still reference the resource.
pub type DeleteErrors = Errors<{ BAD_REQUEST | NOT_FOUND | CONFLICT | INTERNAL | UNAVAILABLE }>;

/// Largest page the document admits (`limit`'s maximum): `orders.max_page_size` may
/// lower it, never raise it.
pub const MAX_PAGE_SIZE: u32 = 100;

/// What handlers share. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The request pool.
    pub pool: Pool,
    /// The loaded configuration.
    pub settings: Arc<Settings>,
}

impl AppState {
    /// Runs before a handler's own database work: plays `pool_exhaustion` if active
    /// (holds a pooled connection for `scenarios.pool_hold` first).
    async fn prelude(&self, req: &Request) -> Result<(), ApiError> {
        if is_active(req, POOL_EXHAUSTION) {
            store::hold_connection(&self.pool, self.settings.scenarios.pool_hold).await?;
        }
        Ok(())
    }

    /// The page size asked for (1 to [`MAX_PAGE_SIZE`], as the document says), 20 by
    /// default, at most `orders.max_page_size`.
    fn limit(&self, limit: Option<u32>) -> i64 {
        let max = self.settings.orders.max_page_size;
        i64::from(limit.unwrap_or(20).clamp(1, max))
    }
}

/// A cursor from a previous page, or none.
fn cursor(after: Option<&str>) -> Result<Option<i64>, ApiError> {
    after
        .map(|text| {
            parse_cursor(text).ok_or_else(|| ApiError::BadRequest {
                slug: "invalid-cursor",
                detail: format!("`{text}` is not a cursor this API returned"),
            })
        })
        .transpose()
}

/// Groups of operations in the OpenAPI document.
#[derive(Debug, Tags)]
pub enum Tag {
    /// The catalog.
    Products,
    /// Who orders.
    Customers,
    /// Placing and reading orders.
    Orders,
    /// Aggregates over orders.
    Reports,
}

/// The API's operations, as one type.
pub type Api = (
    products::ProductsApi,
    customers::CustomersApi,
    orders::OrdersApi,
    reports::ReportsApi,
);

/// The OpenAPI service: the real route table, which `apps/sql-application/openapi.json`
/// (and so OBI's route patterns) are generated from.
pub fn api(state: AppState) -> OpenApiService<Api, ()> {
    OpenApiService::new(
        (
            products::ProductsApi { state: state.clone() },
            customers::CustomersApi { state: state.clone() },
            orders::OrdersApi { state: state.clone() },
            reports::ReportsApi { state },
        ),
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
    )
    .description("Orders service on PostgreSQL: customers, products, transactional orders with idempotency keys, listings and a sales report.")
}

/// The OpenAPI document as served with the built-in defaults (what `openapi.json` holds).
pub fn openapi_document() -> String {
    let settings: Settings = service_kit::config::load_from(DEFAULTS, None, [])
        .unwrap_or_else(|err| panic!("the built-in defaults must load: {err}"));
    let state = AppState {
        pool: store::pool(&settings.database),
        settings: Arc::new(settings),
    };
    format!("{}\n", api(state).spec())
}
