//! The application every app is: one [`Application`] built from the app's routes (an
//! OpenAPI service or a gRPC endpoint), its readiness checks, its background tasks
//! and what it must do last, around the same skeleton — the fault model and its admin
//! endpoint, `/healthz` and `/readyz`, problem+json for every HTTP error, a bound
//! listener (port 0 in tests), serving until shutdown, a bounded drain, the tasks
//! stopped and awaited. And [`main`], the binary's entry point, so that every app's
//! `main.rs` is one call:
//!
//! ```ignore
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     service_kit::app::main(env!("CARGO_PKG_NAME"), settings::DEFAULTS, startup::build).await
//! }
//! ```

mod builder;

use std::future::Future;
use std::io;
use std::process::ExitCode;
use std::time::Duration;

use futures_util::future::BoxFuture;
use poem::endpoint::BoxEndpoint;
use serde::de::DeserializeOwned;
use tokio::net::TcpListener;

pub use builder::Builder;

use crate::config::{ConfigError, Validate};
use crate::faults::admin::AdminSettings;
use crate::faults::{FaultError, Faults};
use crate::server;
use crate::shutdown::Shutdown;
use crate::tasks::Tasks;

/// A built app: bound, its tasks running, not serving yet. `S` is what the app hands
/// its tests (its store, its counters), `()` when they need nothing.
pub struct Application<S = ()> {
    name: &'static str,
    listener: TcpListener,
    port: u16,
    endpoint: BoxEndpoint<'static>,
    shutdown: Shutdown,
    drain: Duration,
    tasks: Tasks,
    on_stop: Vec<BoxFuture<'static, ()>>,
    state: S,
}

impl<S> std::fmt::Debug for Application<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("name", &self.name)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Starts building the app `name` (its package name: logs, the `WWW-Authenticate`
    /// realm) that stops when `shutdown` fires, with its fault model and the admin
    /// endpoint that switches it.
    pub fn builder(
        name: &'static str,
        shutdown: Shutdown,
        faults: Faults,
        admin: &AdminSettings,
    ) -> Builder {
        Builder::new(name, shutdown, faults, admin)
    }
}

impl<S> Application<S> {
    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// What the app hands its tests.
    pub fn state(&self) -> &S {
        &self.state
    }

    /// The same app handing `state` to its tests.
    pub fn with_state<T>(self, state: T) -> Application<T> {
        Application {
            name: self.name,
            listener: self.listener,
            port: self.port,
            endpoint: self.endpoint,
            shutdown: self.shutdown,
            drain: self.drain,
            tasks: self.tasks,
            on_stop: self.on_stop,
            state,
        }
    }

    /// Serves until shutdown, drains in-flight requests for `server.drain_timeout`,
    /// stops the background tasks (waiting for them as long again at most), then runs
    /// the app's last steps (closing pools, flushing producers) in order.
    pub async fn run_until_stopped(self) -> io::Result<()> {
        let served = server::serve(self.listener, self.endpoint, self.shutdown, self.drain).await;
        self.tasks.stop(self.drain).await;
        for last in self.on_stop {
            last.await;
        }
        tracing::info!("{} stopped", self.name);
        served
    }
}

/// Runs an app binary: JSON logs, its settings (the built-in `defaults`, the file
/// named by `APP_CONFIG_FILE`, `APP__*` variables; a bad key or a value out of its
/// range exits 2 naming it), the SIGTERM/Ctrl-C shutdown, `build`, then serving until
/// shutdown and draining. Exits 2 when `build` refuses a setting (a [`ConfigError`]
/// or [`FaultError`] in its error's chain), 1 when the app cannot start otherwise or
/// serving fails, 0 after a clean drain.
pub async fn main<Settings, S, F, Fut>(name: &'static str, defaults: &str, build: F) -> ExitCode
where
    Settings: DeserializeOwned + Validate,
    F: FnOnce(Settings, Shutdown) -> Fut,
    Fut: Future<Output = anyhow::Result<Application<S>>>,
{
    crate::logging::init();
    let settings: Settings = crate::config::load_or_exit(name, defaults);
    let shutdown = Shutdown::on_signals();
    let app = match build(settings, shutdown).await {
        Ok(app) => app,
        Err(err) if is_configuration(&err) => {
            tracing::error!(
                error = format!("{err:#}"),
                "configuration error; not starting"
            );
            eprintln!("{name}: configuration error: {err:#}");
            return ExitCode::from(2);
        }
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "cannot start");
            eprintln!("{name}: cannot start: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(port = app.port(), "{name} listening");
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "server failed");
            ExitCode::FAILURE
        }
    }
}

/// Whether `err` is a setting the app refused (exit code 2, like a bad key).
fn is_configuration(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|cause| cause.is::<ConfigError>() || cause.is::<FaultError>())
}

/// What the tests of the app module share: settings with a free loopback port, and a
/// builder with no scenarios and an admin token.
#[cfg(test)]
mod fixtures {
    use serde::Deserialize;

    use super::*;
    use crate::config::ServerSettings;
    use crate::faults::{Catalog, FaultSettings};

    const CATALOG: Catalog = &[];
    pub(super) const DEFAULTS: &str =
        "server: {host: 127.0.0.1, port: 0, drain_timeout: 1s, max_body_bytes: 65536}\n";

    #[derive(Debug, Deserialize)]
    pub(super) struct Settings {
        pub(super) server: ServerSettings,
    }

    impl Validate for Settings {
        fn validate(&self, check: &mut crate::config::Check) {
            self.server.validate(check);
        }
    }

    pub(super) fn builder(shutdown: &Shutdown) -> Builder {
        let faults = Faults::new(FaultSettings::default(), CATALOG).unwrap();
        let admin = AdminSettings {
            token: "t".to_owned().into(),
        };
        Application::builder("test-app", shutdown.clone(), faults, &admin)
    }
}

#[cfg(test)]
mod tests {
    use poem::Route;

    use super::fixtures::{DEFAULTS, Settings, builder};
    use super::*;

    #[tokio::test]
    async fn main_exits_zero_after_a_clean_drain_and_one_when_the_app_cannot_start() {
        let code = main(
            "test-app",
            DEFAULTS,
            |settings: Settings, shutdown| async move {
                let app = builder(&shutdown)
                    .bind_grpc(&settings.server, Route::new())
                    .await?;
                shutdown.trigger();
                Ok(app)
            },
        )
        .await;
        assert_eq!(code, ExitCode::SUCCESS);
        let code = main("test-app", DEFAULTS, |_: Settings, _| async {
            Err::<Application, _>(anyhow::anyhow!("port taken"))
        })
        .await;
        assert_eq!(code, ExitCode::FAILURE);
        let code = main("test-app", DEFAULTS, |_: Settings, _| async {
            let refused = FaultError::Invalid {
                key: "errors.rate".into(),
                reason: "2 is not from 0.0 to 1.0".into(),
            };
            Err::<Application, _>(anyhow::Error::new(refused).context("fault settings"))
        })
        .await;
        assert_eq!(code, ExitCode::from(2));
    }
}
