//! kafka-streaming's entry point: load configuration, start JSON logs, build the app
//! (events API and/or worker), serve until SIGTERM or Ctrl-C, drain (see
//! `service_kit::app`).

use std::process::ExitCode;

use kafka_streaming::APP_NAME;
use kafka_streaming::settings::Settings;
use kafka_streaming::startup::Application;

#[tokio::main]
async fn main() -> ExitCode {
    service_kit::app::main(APP_NAME, |shutdown| {
        Application::build(Settings::load_or_exit(), shutdown)
    })
    .await
}
