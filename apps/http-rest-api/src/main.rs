//! http-rest-api's entry point: load configuration, start JSON logs, build the app, serve
//! until SIGTERM or Ctrl-C, drain (see `service_kit::app`).

use std::process::ExitCode;

use http_rest_api::APP_NAME;
use http_rest_api::settings::Settings;
use http_rest_api::startup::Application;

#[tokio::main]
async fn main() -> ExitCode {
    service_kit::app::main(APP_NAME, |shutdown| {
        Application::build(Settings::load_or_exit(), shutdown)
    })
    .await
}
