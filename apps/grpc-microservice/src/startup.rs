//! Wiring: builds the inventory, fault model, gRPC services (inventory, health,
//! reflection) and the HTTP/1.1 probes and admin routes on one port, and binds it.

use std::io;
use std::time::Duration;

use poem::endpoint::BoxEndpoint;
use poem::{EndpointExt, IntoEndpoint, Route};
use poem_grpc::{HealthReporter, Reflection, RouteGrpc, health_service};
use service_kit::faults::{Faults, admin};
use service_kit::health::{self, Readiness};
use service_kit::server;
use service_kit::shutdown::Shutdown;
use tokio::net::TcpListener;

use crate::faults::CATALOG;
use crate::guard::Guard;
use crate::proto::{FILE_DESCRIPTOR_SET, InventoryServer};
use crate::service::InventoryService;
use crate::settings::Settings;
use crate::store::Store;

/// The whole server's health entry (`Check("")`), next to `inventory.v1.Inventory`.
#[derive(Debug)]
pub struct WholeServer;

impl poem_grpc::Service for WholeServer {
    const NAME: &'static str = "";
}

type Served = InventoryServer<InventoryService>;

/// The app, bound and ready to serve.
pub struct Application {
    listener: TcpListener,
    port: u16,
    endpoint: BoxEndpoint<'static>,
    shutdown: Shutdown,
    drain: Duration,
    store: Store,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// Why the app could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A fault setting the app cannot apply.
    #[error(transparent)]
    Faults(#[from] service_kit::faults::FaultError),
    /// The listener could not be bound.
    #[error(transparent)]
    Bind(#[from] io::Error),
}

impl Application {
    /// Builds everything from `settings` and binds `server.host:server.port`
    /// (port 0 picks a free one). Stops serving when `shutdown` fires.
    pub async fn build(settings: Settings, shutdown: Shutdown) -> Result<Self, StartError> {
        let faults = Faults::new(settings.faults.clone(), CATALOG)?;
        let store = Store::new();
        store.seed(
            settings.inventory.seed_skus,
            settings.inventory.seed_quantity,
        );
        spawn_sweeper(&store, settings.inventory.sweep_interval, &shutdown);

        let service =
            InventoryService::new(store.clone(), settings.inventory.clone(), shutdown.child());
        let (health, reporter) = health_service();
        follow_readiness(reporter, &shutdown);
        let reflection = Reflection::new()
            .add_file_descriptor_set(FILE_DESCRIPTOR_SET)
            .build();
        let grpc = RouteGrpc::new()
            .add_service(InventoryServer::new(service))
            .add_service(health)
            .add_service(reflection)
            .into_endpoint()
            .with(Guard::new(
                faults.clone(),
                settings.grpc.max_in_flight,
                settings.grpc.storm_delay,
                settings.grpc.deadline_margin,
            ));
        let readiness = Readiness::new(shutdown.clone(), Duration::from_secs(2));

        let app = Route::new()
            .nest("/", grpc)
            .at("/healthz", health::routes(readiness.clone()))
            .at("/readyz", health::routes(readiness))
            .nest_no_strip("/admin", admin::routes(faults, &settings.admin))
            .boxed();

        let listener = server::bind(&settings.server).await?;
        let port = listener.local_addr()?.port();
        tracing::info!(
            port,
            skus = settings.inventory.seed_skus,
            max_in_flight = settings.grpc.max_in_flight,
            "grpc-microservice listening"
        );
        Ok(Self {
            listener,
            port,
            endpoint: app,
            shutdown,
            drain: settings.server.drain_timeout,
            store,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The inventory (tests seed and inspect it).
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    /// Serves until shutdown, then drains in-flight calls for `server.drain_timeout`.
    pub async fn run_until_stopped(self) -> io::Result<()> {
        server::serve(self.listener, self.endpoint, self.shutdown, self.drain).await
    }
}

/// gRPC health says SERVING until shutdown starts, then NOT_SERVING (like `/readyz`).
fn follow_readiness(reporter: HealthReporter, shutdown: &Shutdown) {
    reporter.set_serving::<Served>();
    reporter.set_serving::<WholeServer>();
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        shutdown.wait().await;
        reporter.set_not_serving::<Served>();
        reporter.set_not_serving::<WholeServer>();
    });
}

fn spawn_sweeper(store: &Store, every: Duration, shutdown: &Shutdown) {
    let store = store.clone();
    let shutdown = shutdown.clone();
    let every = every.max(Duration::from_millis(10));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                () = shutdown.wait() => return,
                _ = tick.tick() => {
                    let expired = store.sweep();
                    if expired > 0 {
                        tracing::debug!(expired, "reservations expired");
                    }
                }
            }
        }
    });
}

impl service_kit::app::App for Application {
    fn port(&self) -> u16 {
        self.port
    }

    fn run_until_stopped(self) -> impl Future<Output = io::Result<()>> + Send {
        Application::run_until_stopped(self)
    }
}
