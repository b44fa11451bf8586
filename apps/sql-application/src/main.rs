//! sql-application's entry point: load configuration, start JSON logs, build the app
//! (pool, migrations, routes), serve until SIGTERM or Ctrl-C, drain (see
//! `service_kit::app`).

use std::process::ExitCode;

use sql_application::APP_NAME;
use sql_application::settings::Settings;
use sql_application::startup::Application;

#[tokio::main]
async fn main() -> ExitCode {
    service_kit::app::main(APP_NAME, |shutdown| {
        Application::build(Settings::load_or_exit(), shutdown)
    })
    .await
}
