//! kafka-streaming's entry point: configuration, JSON logs, build (Kafka clients,
//! worker, routes), serve until SIGTERM or Ctrl-C, drain (see `service_kit::app`).

use std::process::ExitCode;

use kafka_streaming::{settings, startup};

#[tokio::main]
async fn main() -> ExitCode {
    service_kit::app::main(env!("CARGO_PKG_NAME"), settings::DEFAULTS, startup::build).await
}
