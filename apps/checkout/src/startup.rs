//! Wiring: the journey (its Redis and the five hops' clients) on the kit's
//! application skeleton (probes, admin, problem+json, a bound listener).

use service_kit::app::Application;
use service_kit::faults::Faults;
use service_kit::shutdown::Shutdown;

use crate::routes::{self, AppState};
use crate::scenarios::CATALOG;
use crate::settings::Settings;

/// Builds the app from `settings` and binds `server.host:server.port` (port 0 picks
/// a free one); it serves until `shutdown` fires. Its tests get the state. Ready
/// means its own Redis answers; the hops are not probed (one down is a 503 naming
/// it, per checkout, not an app that leaves the Service).
pub async fn build(
    settings: Settings,
    shutdown: Shutdown,
) -> anyhow::Result<Application<AppState>> {
    let worst = settings.hops.worst_case(1);
    if settings.idempotency.in_progress_ttl <= worst {
        anyhow::bail!(
            "idempotency.in_progress_ttl ({:?}) must exceed the hops' timeouts for a one-line cart ({worst:?}), or a running checkout's key could be taken",
            settings.idempotency.in_progress_ttl
        );
    }
    let faults = Faults::new(settings.faults.clone(), CATALOG)?;
    let state = AppState::new(settings)?;
    let settings = state.settings.clone();
    let store = state.journey.store().clone();
    let app = Application::builder(env!("CARGO_PKG_NAME"), shutdown, faults, &settings.admin)
        .required("redis", move || {
            let store = store.clone();
            async move { store.ping().await.map_err(|err| err.to_string()) }
        })
        .bind_http(&settings.server, routes::api(state.clone()))
        .await?;
    Ok(app.with_state(state))
}
