//! redis-cache's entry point: load configuration, start JSON logs, build the app, serve
//! until SIGTERM or Ctrl-C, drain (see `service_kit::app`).

use std::process::ExitCode;

use redis_cache::APP_NAME;
use redis_cache::settings::Settings;
use redis_cache::startup::Application;

#[tokio::main]
async fn main() -> ExitCode {
    service_kit::app::main(APP_NAME, |shutdown| {
        Application::build(Settings::load_or_exit(), shutdown)
    })
    .await
}
