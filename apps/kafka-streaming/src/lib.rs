//! kafka-streaming: an events API with an idempotent Kafka producer and a consumer
//! group worker (retries, de-duplication, dead-letter topic, lag), built to show what
//! OBI sees of Kafka traffic.

pub mod error;
pub mod event;
pub mod record;
pub mod routes;
pub mod scenarios;
pub mod settings;
pub mod startup;
pub mod store;
pub mod worker;
