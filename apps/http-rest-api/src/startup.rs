//! Wiring: the catalog, token issuer, rate limiter and fault model from the settings,
//! on the kit's application skeleton (which mounts the API, docs, probes and admin
//! routes, and binds the listener).

use poem::EndpointExt;
use service_kit::app::Application;
use service_kit::faults::Faults;
use service_kit::shutdown::Shutdown;

use crate::rate_limit::RateLimiter;
use crate::routes::{self, AppState};
use crate::scenarios::CATALOG;
use crate::settings::Settings;

/// Builds the app from `settings` and binds `server.host:server.port` (port 0 picks
/// a free one); it serves until `shutdown` fires.
pub async fn build(settings: Settings, shutdown: Shutdown) -> anyhow::Result<Application> {
    let faults = Faults::new(settings.faults.clone(), CATALOG)?;
    let state = AppState::new(settings);
    let settings = state.settings.clone();
    let (auth, limit) = (state.auth.clone(), state.upload_limit());
    let limiter = RateLimiter::new(settings.rate_limit.clone());
    tracing::info!(
        capacity = settings.store.capacity,
        rate_limit = settings.rate_limit.enabled,
        "catalog ready"
    );
    let app = Application::builder(env!("CARGO_PKG_NAME"), shutdown, faults, &settings.admin)
        .layer(move |routes| {
            routes
                .with(limiter.with_auth(auth.clone()))
                .data(auth)
                .data(limit)
                .boxed()
        })
        .bind_http(&settings.server, routes::api(state))
        .await?;
    Ok(app)
}
