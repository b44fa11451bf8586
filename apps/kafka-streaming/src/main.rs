//! The kafka-streaming binary: load configuration, start logging, serve until SIGTERM.

use kafka_streaming::settings::Settings;
use kafka_streaming::startup::Application;
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
            eprintln!("kafka-streaming: cannot start: {err:#}");
            std::process::exit(1);
        }
    };
    tracing::info!(port = app.port(), "kafka-streaming listening");
    if let Err(err) = app.run_until_stopped().await {
        tracing::error!(error = %err, "server failed");
        std::process::exit(1);
    }
}
