//! kafka-streaming: an events API with an idempotent Kafka producer and a consumer
//! group worker (retries, de-duplication, dead-letter topic, lag), built to show what
//! OBI sees of Kafka traffic.

/// The app's name, in logs and in its OBI service name.
pub const APP_NAME: &str = "kafka-streaming";

pub mod error;
pub mod event;
pub mod kafka;
pub mod routes;
pub mod scenarios;
pub mod settings;
pub mod startup;
pub mod worker;

/// Whether scenario `name` is active for this request.
pub fn scenarios_active(req: &poem::Request, name: &str) -> bool {
    service_kit::faults::middleware::decision(req).is_some_and(|d| d.is_active(name))
}
