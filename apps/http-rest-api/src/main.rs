//! http-rest-api's entry point: configuration, JSON logs, build, serve until SIGTERM
//! or Ctrl-C, drain (see `service_kit::app`).

use std::process::ExitCode;

use http_rest_api::{settings, startup};

#[tokio::main]
async fn main() -> ExitCode {
    service_kit::app::main(env!("CARGO_PKG_NAME"), settings::DEFAULTS, startup::build).await
}
