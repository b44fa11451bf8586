//! Wiring: the inventory, the fault model and the gRPC services (inventory, health,
//! reflection) behind the guard, on the kit's application skeleton (which serves the
//! HTTP/1.1 probes and admin routes on the same port, and binds it).

use std::time::Duration;

use poem::{EndpointExt, IntoEndpoint};
use poem_grpc::{HealthReporter, Reflection, RouteGrpc, health_service};
use service_kit::app::Application;
use service_kit::faults::Faults;
use service_kit::shutdown::Shutdown;
use service_kit::tasks::Task;

use crate::framing::Framing;
use crate::guard::Guard;
use crate::proto::{FILE_DESCRIPTOR_SET, InventoryServer};
use crate::scenarios::CATALOG;
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

/// Builds the app from `settings` and binds `server.host:server.port` (port 0 picks
/// a free one); it serves until `shutdown` fires. Its tests get the inventory.
pub async fn build(settings: Settings, shutdown: Shutdown) -> anyhow::Result<Application<Store>> {
    let faults = Faults::new(settings.faults.clone(), CATALOG)?;
    let store = Store::new();
    store.seed(
        settings.inventory.seed_skus,
        settings.inventory.seed_quantity,
    );
    let service =
        InventoryService::new(store.clone(), settings.inventory.clone(), shutdown.child());
    let (health, reporter) = health_service();
    reporter.set_serving::<Served>();
    reporter.set_serving::<WholeServer>();
    let reflection = Reflection::new()
        .add_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .build();
    let grpc = RouteGrpc::new()
        .add_service(InventoryServer::new(service))
        .add_service(health)
        .add_service(reflection)
        .into_endpoint()
        .with(Framing)
        .with(Guard::new(
            faults.clone(),
            settings.grpc.max_in_flight,
            settings.grpc.storm_delay,
            settings.grpc.deadline_margin,
        ));
    tracing::info!(
        skus = settings.inventory.seed_skus,
        max_in_flight = settings.grpc.max_in_flight,
        "inventory ready"
    );
    let app = Application::builder(
        env!("CARGO_PKG_NAME"),
        shutdown.clone(),
        faults,
        &settings.admin,
    )
    .task(Task::until_stopped(
        "grpc-health",
        not_serving_on_shutdown(reporter, shutdown.clone()),
    ))
    .task(Task::until_stopped(
        "sweeper",
        sweep(store.clone(), settings.inventory.sweep_interval, shutdown),
    ))
    .bind_grpc(&settings.server, grpc)
    .await?;
    Ok(app.with_state(store))
}

/// gRPC health says SERVING until shutdown starts, then NOT_SERVING (like `/readyz`).
async fn not_serving_on_shutdown(reporter: HealthReporter, shutdown: Shutdown) {
    shutdown.wait().await;
    reporter.set_not_serving::<Served>();
    reporter.set_not_serving::<WholeServer>();
}

/// Expires reservations every `every` until shutdown.
async fn sweep(store: Store, every: Duration, shutdown: Shutdown) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
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
}
