//! checkout's entry point: configuration, JSON logs, build (its Redis and the five
//! hops' clients), serve until SIGTERM or Ctrl-C, drain (see `service_kit::app`).

use std::process::ExitCode;

use checkout::{settings, startup};

#[tokio::main]
async fn main() -> ExitCode {
    service_kit::app::main(env!("CARGO_PKG_NAME"), settings::DEFAULTS, startup::build).await
}
