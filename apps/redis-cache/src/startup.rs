//! Wiring: Redis, the origin, the cache and the price subscriber, on the kit's
//! application skeleton (probes, admin, problem+json, a bound listener; the subscriber
//! stopped and awaited after the drain).

use service_kit::app::Application;
use service_kit::faults::Faults;
use service_kit::shutdown::Shutdown;
use service_kit::tasks::Task;

use crate::routes::{self, AppState};
use crate::scenarios::CATALOG;
use crate::settings::Settings;

/// Builds the app from `settings` and binds `server.host:server.port` (port 0 picks
/// a free one); it serves until `shutdown` fires. Redis may be down: the app then
/// starts degraded (reads fall back to the origin) and recovers when it returns.
pub async fn build(settings: Settings, shutdown: Shutdown) -> anyhow::Result<Application> {
    let faults = Faults::new(settings.faults.clone(), CATALOG)?;
    let state = AppState::new(settings)?;
    let settings = state.settings.clone();
    let (store, prices) = (state.store().clone(), state.prices.clone());
    let subscriber = prices.clone().run(store.clone(), shutdown.clone());
    let app = Application::builder(env!("CARGO_PKG_NAME"), shutdown, faults, &settings.admin)
        .optional("redis", move || {
            let store = store.clone();
            async move { store.ping().await.map_err(|err| err.to_string()) }
        })
        .optional("redis-subscriber", move || {
            let subscribed = prices.is_subscribed();
            async move {
                if subscribed {
                    Ok(())
                } else {
                    Err("not subscribed to the price channel".to_owned())
                }
            }
        })
        .task(Task::until_stopped("price-subscriber", subscriber))
        .bind_http(&settings.server, routes::api(state))
        .await?;
    Ok(app)
}
