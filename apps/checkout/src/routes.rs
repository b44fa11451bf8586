//! The HTTP API (poem-openapi): one resource, the checkout, and what its handler
//! shares.

pub mod checkout;

use std::sync::Arc;

use poem_openapi::{OpenApiService, Tags};

use crate::journey::Journey;
use crate::settings::{DEFAULTS, Settings};

/// What handlers share. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The journey's clients and store.
    pub journey: Journey,
    /// The loaded configuration.
    pub settings: Arc<Settings>,
}

impl AppState {
    /// The state `settings` describe (nothing connects yet).
    pub fn new(settings: Settings) -> anyhow::Result<Self> {
        Ok(Self {
            journey: Journey::new(&settings)?,
            settings: Arc::new(settings),
        })
    }
}

/// Groups of operations in the OpenAPI document.
#[derive(Debug, Tags)]
pub enum Tag {
    /// The checkout journey.
    Checkout,
}

/// The OpenAPI service: the real route table, which `apps/checkout/openapi.json`
/// (and so OBI's route patterns) are generated from.
pub fn api(state: AppState) -> OpenApiService<checkout::CheckoutApi, ()> {
    OpenApiService::new(
        checkout::CheckoutApi { state },
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "One checkout across the shop: the session's cart from redis-cache, stock reservations on grpc-microservice, the order on sql-application, an order_placed event through kafka-streaming and the receipt's details from http-rest-api; idempotent on its key, compensating on failure.",
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
