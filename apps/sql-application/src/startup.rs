//! Wiring: the store (pools, migrations in the background), the fault model and the
//! routes, on the kit's application skeleton (probes, admin, problem+json, a bound
//! listener; the pools closed after the drain).

use std::sync::Arc;
use std::time::Duration;

use service_kit::app::Application;
use service_kit::faults::Faults;
use service_kit::shutdown::Shutdown;
use service_kit::tasks::Task;

use crate::routes::{self, AppState};
use crate::scenarios::CATALOG;
use crate::settings::Settings;
use crate::store::Store;

/// Pause between migration attempts while PostgreSQL is unreachable.
const MIGRATION_RETRY: Duration = Duration::from_secs(1);

/// Builds the app from `settings` and binds `server.host:server.port` (port 0 picks
/// a free one); it serves until `shutdown` fires. PostgreSQL may be down: the app
/// then starts not ready and becomes ready when it returns (migrations retry).
pub async fn build(settings: Settings, shutdown: Shutdown) -> anyhow::Result<Application> {
    let faults = Faults::new(settings.faults.clone(), CATALOG)?;
    let store = Store::new(&settings.database);
    let migrations =
        store
            .clone()
            .migrate(settings.database.migrate, MIGRATION_RETRY, shutdown.child());
    let probe = store.clone();
    let closing = store.clone();
    let state = AppState {
        pool: store.pool().clone(),
        settings: Arc::new(settings),
    };
    let settings = state.settings.clone();
    let app = Application::builder(env!("CARGO_PKG_NAME"), shutdown, faults, &settings.admin)
        .required("postgresql", move || {
            let store = probe.clone();
            async move { store.check().await }
        })
        .task(Task::once("migrations", migrations))
        .on_stop(async move { closing.close().await })
        .bind_http(&settings.server, routes::api(state))
        .await?;
    Ok(app)
}
