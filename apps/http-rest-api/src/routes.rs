//! The HTTP API (poem-openapi), one module per resource, and what every handler
//! shares: the state, the bearer scheme, and the OpenAPI service that joins them.

pub mod images;
pub mod json;
pub mod product_body;
pub mod products;
pub mod reports;
pub mod security;
pub mod tokens;

use std::sync::Arc;

use poem_openapi::{OpenApiService, Tags};

use crate::auth::Auth;
use crate::settings::{DEFAULTS, Settings};
use crate::store::Store;
use crate::upload_limit::UploadLimit;

/// Largest page the document admits (`limit`'s maximum): `store.max_page_size` may
/// lower it, never raise it.
pub const MAX_PAGE_SIZE: u32 = 100;

/// What handlers share. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The catalog.
    pub store: Store,
    /// Issues and checks tokens.
    pub auth: Auth,
    /// The loaded configuration.
    pub settings: Arc<Settings>,
}

impl AppState {
    /// The state `settings` describe: an empty catalog of `store.capacity` products.
    pub fn new(settings: Settings) -> Self {
        Self {
            store: Store::new(settings.store.capacity, settings.store.image_bytes),
            auth: Auth::new(&settings.auth),
            settings: Arc::new(settings),
        }
    }

    /// The image upload limit (`images.max_bytes`).
    pub fn upload_limit(&self) -> UploadLimit {
        UploadLimit {
            max_file_bytes: self.settings.images.max_bytes,
        }
    }
}

/// Groups of operations in the OpenAPI document.
#[derive(Debug, Tags)]
pub enum Tag {
    /// The product catalog.
    Products,
    /// Product images.
    Images,
    /// Bearer tokens for writes.
    Auth,
    /// Reports over the whole catalog.
    Reports,
}

/// The API's operations, as one type, in the order the document lists them.
pub type Api = (
    products::ProductsApi,
    images::ImagesApi,
    tokens::TokensApi,
    reports::ReportsApi,
);

/// The OpenAPI service: the real route table, which `apps/http-rest-api/openapi.json`
/// (and so OBI's route patterns) are generated from.
pub fn api(state: AppState) -> OpenApiService<Api, ()> {
    OpenApiService::new(
        (
            products::ProductsApi {
                state: state.clone(),
            },
            images::ImagesApi {
                state: state.clone(),
            },
            tokens::TokensApi {
                state: state.clone(),
            },
            reports::ReportsApi { state },
        ),
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Product catalog of obi-examples: CRUD with cursor pages and optimistic concurrency, \
             images, bearer tokens for writes, per-client rate limits. Errors are RFC 9457 \
             problem+json.",
    )
}

/// The OpenAPI document as served with the built-in defaults (what `openapi.json` holds).
pub fn openapi_document() -> String {
    let settings: Settings = service_kit::config::load_from(DEFAULTS, None, [])
        .unwrap_or_else(|err| panic!("the built-in defaults must load: {err}"));
    format!("{}\n", api(AppState::new(settings)).spec())
}
