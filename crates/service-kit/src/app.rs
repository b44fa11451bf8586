//! The entry point every app binary shares: JSON logs, the shutdown signal, build,
//! serve until SIGTERM or Ctrl-C, drain, and an exit code that says what happened.
//!
//! An app's `main.rs` is then one call:
//!
//! ```ignore
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     service_kit::app::main(APP_NAME, |shutdown| {
//!         Application::build(Settings::load_or_exit(), shutdown)
//!     })
//!     .await
//! }
//! ```

use std::fmt::Display;
use std::future::Future;
use std::process::ExitCode;

use crate::shutdown::Shutdown;

/// A built, bound application that serves until its shutdown signal fires.
pub trait App {
    /// The port it listens on (logged at start).
    fn port(&self) -> u16;

    /// Serves until the shutdown signal, then drains.
    fn run_until_stopped(self) -> impl Future<Output = std::io::Result<()>> + Send;
}

/// Runs an app binary: initialises JSON logs, installs the SIGTERM/Ctrl-C shutdown,
/// builds the app with `build` (which loads its settings; an invalid setting exits 2
/// there, naming the key), serves it and drains. Exits 1 when the app cannot start or
/// serving fails, 0 after a clean drain.
pub async fn main<A, E, F, Fut>(name: &str, build: F) -> ExitCode
where
    A: App,
    E: Display,
    F: FnOnce(Shutdown) -> Fut,
    Fut: Future<Output = Result<A, E>>,
{
    crate::logging::init();
    let shutdown = Shutdown::on_signals();
    let app = match build(shutdown).await {
        Ok(app) => app,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "cannot start");
            eprintln!("{name}: cannot start: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(port = app.port(), "{name} listening");
    match app.run_until_stopped().await {
        Ok(()) => {
            tracing::info!("{name} stopped");
            ExitCode::SUCCESS
        }
        Err(err) => {
            tracing::error!(error = %err, "server failed");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    struct Fake {
        outcome: std::io::Result<()>,
        ran: Arc<AtomicBool>,
    }

    impl App for Fake {
        fn port(&self) -> u16 {
            8080
        }

        async fn run_until_stopped(self) -> std::io::Result<()> {
            self.ran.store(true, Ordering::SeqCst);
            self.outcome
        }
    }

    fn fake(outcome: std::io::Result<()>) -> (Fake, Arc<AtomicBool>) {
        let ran = Arc::new(AtomicBool::new(false));
        (
            Fake {
                outcome,
                ran: ran.clone(),
            },
            ran,
        )
    }

    #[tokio::test]
    async fn a_clean_run_exits_zero() {
        let (app, ran) = fake(Ok(()));
        let code = main("fake", |_| async { Ok::<_, String>(app) }).await;
        assert_eq!(code, ExitCode::SUCCESS);
        assert!(ran.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn an_app_that_cannot_start_exits_one_without_serving() {
        let code = main("fake", |_| async { Err::<Fake, _>("port taken") }).await;
        assert_eq!(code, ExitCode::FAILURE);
    }

    #[tokio::test]
    async fn a_serving_failure_exits_one() {
        let (app, ran) = fake(Err(std::io::Error::other("accept failed")));
        let code = main("fake", |_| async { Ok::<_, String>(app) }).await;
        assert_eq!(code, ExitCode::FAILURE);
        assert!(ran.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn build_gets_the_shutdown_signal() {
        let (app, _) = fake(Ok(()));
        let code = main("fake", |shutdown: Shutdown| async move {
            assert!(!shutdown.is_triggered());
            Ok::<_, String>(app)
        })
        .await;
        assert_eq!(code, ExitCode::SUCCESS);
    }
}
