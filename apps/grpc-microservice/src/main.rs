//! grpc-microservice's entry point: load configuration, start JSON logs, build the
//! app, serve until SIGTERM or Ctrl-C, drain.

use grpc_microservice::settings::Settings;
use grpc_microservice::startup::Application;
use service_kit::shutdown::Shutdown;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    service_kit::logging::init();
    let settings = Settings::load_or_exit();
    let shutdown = Shutdown::on_signals();
    let app = match Application::build(settings, shutdown).await {
        Ok(app) => app,
        Err(err) => {
            eprintln!("{}: cannot start: {err}", grpc_microservice::APP_NAME);
            tracing::error!(error = %err, "cannot start");
            std::process::exit(2);
        }
    };
    app.run_until_stopped().await?;
    tracing::info!("stopped");
    Ok(())
}
