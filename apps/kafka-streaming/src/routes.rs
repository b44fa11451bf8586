//! The HTTP API (poem-openapi), one module per resource — publishing events, the
//! consumer group's lag and counters — and what every handler shares.

pub mod consumer;
pub mod events;

use std::sync::Arc;

use poem_openapi::{OpenApiService, Tags};

use crate::settings::{DEFAULTS, Settings};
use crate::store::StoreError;
use crate::store::inspector::Inspector;
use crate::store::producer::Producer;
use crate::worker::Stats;

/// What handlers share. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The idempotent producer.
    pub producer: Producer,
    /// Metadata, committed offsets and watermarks.
    pub inspector: Inspector,
    /// The worker's counters.
    pub stats: Arc<Stats>,
    /// The loaded configuration.
    pub settings: Arc<Settings>,
}

impl AppState {
    /// The state `settings` describe (the broker need not be up).
    pub fn new(settings: Arc<Settings>) -> Result<Self, StoreError> {
        Ok(Self {
            producer: Producer::new(&settings.kafka, "producer")?,
            inspector: Inspector::new(&settings.kafka)?,
            stats: Arc::default(),
            settings,
        })
    }
}

/// Groups of operations in the OpenAPI document.
#[derive(Debug, Tags)]
pub enum Tag {
    /// Publishing events.
    Events,
    /// The consumer group worker.
    Consumer,
}

/// The API's operations, as one type.
pub type Api = (events::EventsApi, consumer::ConsumerApi);

/// The OpenAPI service: the real route table, which `apps/kafka-streaming/openapi.json`
/// (and so OBI's route patterns) are generated from.
pub fn api(state: AppState) -> OpenApiService<Api, ()> {
    OpenApiService::new(
        (
            events::EventsApi {
                state: state.clone(),
            },
            consumer::ConsumerApi { state },
        ),
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
    )
    .description("Event ingestion on Kafka: an idempotent producer behind an HTTP events API, and a consumer group worker with retries, de-duplication, a dead-letter topic and lag per partition.")
}

/// The OpenAPI document as served with the built-in defaults (what `openapi.json` holds).
pub fn openapi_document() -> String {
    let settings: Settings = service_kit::config::load_from(DEFAULTS, None, [])
        .unwrap_or_else(|err| panic!("the built-in defaults must load: {err}"));
    let state = AppState::new(Arc::new(settings))
        .unwrap_or_else(|err| panic!("the built-in defaults must build: {err}"));
    format!("{}\n", api(state).spec())
}
