//! The sql-application binary: load configuration, start logging, serve until SIGTERM.

use service_kit::shutdown::Shutdown;
use sql_application::settings::Settings;
use sql_application::startup::Application;

#[tokio::main]
async fn main() {
    service_kit::logging::init();
    let settings = Settings::load_or_exit();
    let shutdown = Shutdown::on_signals();
    let app = match Application::build(settings, shutdown).await {
        Ok(app) => app,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "cannot start");
            eprintln!("sql-application: cannot start: {err:#}");
            std::process::exit(1);
        }
    };
    tracing::info!(port = app.port(), "sql-application listening");
    if let Err(err) = app.run_until_stopped().await {
        tracing::error!(error = %err, "server failed");
        std::process::exit(1);
    }
}
