//! The HTTP API (poem-openapi), one module per resource, and what every handler
//! shares: the state, paging, and problem+json for errors poem raises itself.

pub mod customers;
pub mod orders;
pub mod products;
pub mod reports;

use std::sync::Arc;

use poem::Request;
use poem_openapi::{OpenApiService, Tags};

use crate::db::Pool;
use crate::domain::parse_cursor;
use crate::error::ApiError;
use crate::settings::Settings;

/// What handlers share. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The request pool.
    pub pool: Pool,
    /// The loaded configuration.
    pub settings: Arc<Settings>,
}

impl AppState {
    /// Runs before a handler's own database work: plays `pool_exhaustion` if active.
    async fn prelude(&self, req: &Request) -> Result<(), ApiError> {
        crate::scenarios::hold_connection(req, &self.pool, self.settings.scenarios.pool_hold).await
    }

    /// The page size asked for, 20 by default, within `1..=orders.max_page_size`.
    fn limit(&self, limit: Option<u32>) -> Result<i64, ApiError> {
        let max = self.settings.orders.max_page_size;
        match limit.unwrap_or(20.min(max)) {
            n if (1..=max).contains(&n) => Ok(i64::from(n)),
            n => Err(ApiError::BadRequest {
                slug: "invalid-limit",
                detail: format!("limit {n} is not between 1 and {max}"),
            }),
        }
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
        "sql-application",
        env!("CARGO_PKG_VERSION"),
    )
    .description("Orders service on PostgreSQL: customers, products, transactional orders with idempotency keys, listings and a sales report.")
}
