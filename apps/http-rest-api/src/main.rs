//! http-rest-api's entry point: load configuration, start JSON logs, build the
//! app, serve until SIGTERM or Ctrl-C, drain.

use http_rest_api::settings::Settings;
use http_rest_api::startup::Application;
use service_kit::shutdown::Shutdown;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    service_kit::logging::init();
    let settings = Settings::load_or_exit();
    let shutdown = Shutdown::on_signals();
    let app = match Application::build(settings, shutdown).await {
        Ok(app) => app,
        Err(err) => {
            eprintln!("{}: cannot start: {err}", http_rest_api::APP_NAME);
            tracing::error!(error = %err, "cannot start");
            std::process::exit(2);
        }
    };
    app.run_until_stopped().await?;
    tracing::info!("stopped");
    Ok(())
}
