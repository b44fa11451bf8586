//! The redis-cache binary: load configuration, start logging, serve until SIGTERM.

use redis_cache::settings::Settings;
use redis_cache::startup::Application;
use service_kit::shutdown::Shutdown;

#[tokio::main]
async fn main() {
    service_kit::logging::init();
    let settings = Settings::load_or_exit();
    let shutdown = Shutdown::on_signals();
    let app = match Application::build(settings, shutdown).await {
        Ok(app) => app,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "cannot start");
            eprintln!("redis-cache: cannot start: {err:#}");
            std::process::exit(1);
        }
    };
    tracing::info!(port = app.port(), "redis-cache listening");
    if let Err(err) = app.run_until_stopped().await {
        tracing::error!(error = %err, "server failed");
        std::process::exit(1);
    }
}
