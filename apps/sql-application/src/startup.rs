//! Building the application from its settings: pool, migrations, routes, fault
//! model, probes, and a bound listener (port 0 in tests), then serving until shutdown.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use poem::endpoint::BoxEndpoint;
use poem::{EndpointExt, IntoEndpoint, Route};
use service_kit::faults::Faults;
use service_kit::faults::middleware::FaultMiddleware;
use service_kit::health::{self, Readiness};
use service_kit::shutdown::Shutdown;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::db::{self, Pool, Schema};
use crate::routes::{self, AppState};
use crate::scenarios::CATALOG;
use crate::settings::Settings;

/// How long the readiness probe waits for PostgreSQL.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause between migration attempts while PostgreSQL is unreachable.
const MIGRATION_RETRY: Duration = Duration::from_secs(1);

/// A built, bound, not yet serving application.
pub struct Application {
    listener: TcpListener,
    port: u16,
    endpoint: BoxEndpoint<'static>,
    shutdown: Shutdown,
    drain: Duration,
    pool: Pool,
    probe_pool: PgPool,
    migration: JoinHandle<()>,
    faults: Faults,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Validates the fault settings, creates the (lazy) pools, starts applying
    /// migrations in the background and binds the listener. PostgreSQL may be down:
    /// the app then starts not ready and becomes ready when it returns.
    pub async fn build(settings: Settings, shutdown: Shutdown) -> anyhow::Result<Self> {
        let faults =
            Faults::new(settings.faults.clone(), CATALOG).context("invalid `faults` settings")?;
        let pool = db::pool(&settings.database);
        let probe_pool = db::probe_pool(&settings.database);
        let schema = Schema::default();
        let migration = tokio::spawn(db::migrate(
            pool.clone(),
            schema.clone(),
            settings.database.migrate,
            MIGRATION_RETRY,
            shutdown.child(),
        ));
        let readiness = Readiness::new(shutdown.clone(), PROBE_TIMEOUT).required("postgresql", {
            let probe_pool = probe_pool.clone();
            move || db::check(probe_pool.clone(), schema.clone())
        });

        let listener = service_kit::server::bind(&settings.server).await?;
        let port = listener.local_addr()?.port();
        let drain = settings.server.drain_timeout;
        let state = AppState {
            pool: pool.clone(),
            settings: Arc::new(settings),
        };
        let api = routes::api(state.clone());
        let spec = api.spec_endpoint();
        let ui = api.swagger_ui();
        let admin = service_kit::faults::admin::routes(faults.clone(), &state.settings.admin);
        let endpoint = Route::new()
            .nest_no_strip("/api", api)
            .at("/openapi.json", spec)
            .nest("/docs", ui)
            .nest_no_strip("/admin", admin)
            .nest("/", health::routes(readiness))
            .with(FaultMiddleware::new(faults.clone()))
            .around(service_kit::problem::problem_errors)
            .into_endpoint()
            .boxed();
        Ok(Self {
            listener,
            port,
            endpoint,
            shutdown,
            drain,
            pool,
            probe_pool,
            migration,
            faults,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The request pool (tests inspect it).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The fault model in force.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Serves until shutdown, drains in-flight requests, then closes the pools.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = service_kit::server::serve(
            self.listener,
            self.endpoint,
            self.shutdown.clone(),
            self.drain,
        )
        .await;
        self.shutdown.trigger();
        let _ = self.migration.await;
        self.pool.close().await;
        self.probe_pool.close().await;
        tracing::info!("stopped");
        served
    }
}

impl service_kit::app::App for Application {
    fn port(&self) -> u16 {
        self.port
    }

    fn run_until_stopped(self) -> impl Future<Output = std::io::Result<()>> + Send {
        Application::run_until_stopped(self)
    }
}
