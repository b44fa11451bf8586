//! The HTTP API: one module per resource, the shared error type, the bearer
//! scheme, and the OpenAPI service that joins them.

pub mod error;
pub mod images;
pub mod product_body;
pub mod products;
pub mod reports;
pub mod security;
pub mod tokens;

use poem_openapi::{OpenApiService, Tags};

/// Groups of operations in the OpenAPI document.
#[derive(Debug, Tags)]
pub enum ApiTags {
    /// The product catalog.
    Products,
    /// Product images.
    Images,
    /// Bearer tokens for writes.
    Auth,
    /// Reports over the whole catalog.
    Reports,
}

/// Every resource of the API, in the order the document lists them.
pub type Apis = (
    products::ProductsApi,
    images::ImagesApi,
    tokens::TokensApi,
    reports::ReportsApi,
);

/// The OpenAPI service of `apis`: what is served, and what `openapi.json` holds.
pub fn service(apis: Apis) -> OpenApiService<Apis, ()> {
    OpenApiService::new(apis, "http-rest-api", env!("CARGO_PKG_VERSION")).description(
        "Product catalog of obi-examples: CRUD with cursor pages and optimistic concurrency, \
             images, bearer tokens for writes, per-client rate limits. Errors are RFC 9457 \
             problem+json.",
    )
}
