//! `/api/v1/products/{id}`: reads through the cache (the `hot_key`, `cache_stampede`
//! and `ttl_too_short` scenarios change how), and invalidation.

use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use service_kit::faults::middleware::is_active;
use service_kit::input::Id;
use service_kit::problem::ProblemDoc;
use service_kit::problem::status::{BAD_GATEWAY, BAD_REQUEST, UNAVAILABLE};

use super::{AppState, NoContent, Tag, degraded};
use crate::cache::ReadOptions;
use crate::error::Errors;
use crate::origin::Product;
use crate::scenarios::{CACHE_STAMPEDE, HOT_KEY, TTL_TOO_SHORT};

/// Cached product operations.
#[derive(Debug)]
pub struct ProductsApi {
    /// Shared state.
    pub state: AppState,
}

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

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Products")]
impl ProductsApi {
    /// Read a product through the cache.
    #[oai(path = "/products/:id", method = "get", operation_id = "getProduct")]
    async fn product(
        &self,
        req: &Request,
        id: Path<Id>,
    ) -> Result<ProductResponse, Errors<{ BAD_REQUEST | BAD_GATEWAY }>> {
        let mut id = id.0.get();
        let scenarios = &self.state.settings.scenarios;
        if is_active(req, HOT_KEY) {
            id = scenarios.hot_key_id;
        }
        let options = ReadOptions {
            coalesce: !is_active(req, CACHE_STAMPEDE),
            ttl: is_active(req, TTL_TOO_SHORT).then_some(scenarios.short_ttl),
        };
        let lookup = self.state.cache.product(id, options).await?;
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
        operation_id = "invalidateProduct"
    )]
    async fn invalidate(
        &self,
        id: Path<Id>,
    ) -> Result<NoContent, Errors<{ BAD_REQUEST | UNAVAILABLE }>> {
        let id = id.0.get();
        self.state.cache.invalidate(id).await?;
        Ok(NoContent::Done)
    }
}
