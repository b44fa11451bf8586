//! sql-application's entry point: configuration, JSON logs, build (pools, migrations,
//! routes), serve until SIGTERM or Ctrl-C, drain (see `service_kit::app`).

use std::process::ExitCode;

use sql_application::{settings, startup};

#[tokio::main]
async fn main() -> ExitCode {
    service_kit::app::main(env!("CARGO_PKG_NAME"), settings::DEFAULTS, startup::build).await
}
