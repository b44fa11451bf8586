//! redis-cache's entry point: configuration, JSON logs, build (Redis, origin,
//! subscriber, routes), serve until SIGTERM or Ctrl-C, drain (see `service_kit::app`).

use std::process::ExitCode;

use redis_cache::{settings, startup};

#[tokio::main]
async fn main() -> ExitCode {
    service_kit::app::main(env!("CARGO_PKG_NAME"), settings::DEFAULTS, startup::build).await
}
