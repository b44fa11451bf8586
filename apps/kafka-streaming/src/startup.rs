//! Wiring: the Kafka clients, topic creation and the worker in the background, the
//! fault model and the routes, on the kit's application skeleton (probes, admin,
//! problem+json, a bound listener; after the drain the worker stops between two
//! messages and commits, then the producer flushes).

use std::sync::Arc;

use anyhow::Context;
use service_kit::app::Application;
use service_kit::faults::Faults;
use service_kit::shutdown::Shutdown;
use service_kit::tasks::Task;

use crate::routes::{self, AppState};
use crate::scenarios::CATALOG;
use crate::settings::Settings;
use crate::store::client::create_topics;
use crate::worker::{Stats, Worker};

/// Builds the app from `settings` and binds `server.host:server.port` (port 0 picks
/// a free one); it serves until `shutdown` fires. The broker may be down: the app
/// then starts not ready and becomes ready when it returns. Its tests get the worker's
/// counters.
pub async fn build(
    settings: Settings,
    shutdown: Shutdown,
) -> anyhow::Result<Application<Arc<Stats>>> {
    let faults = Faults::new(settings.faults.clone(), CATALOG)?;
    let settings = Arc::new(settings);
    let state = AppState::new(settings.clone()).context("cannot create the Kafka clients")?;
    let (inspector, producer, stats) = (
        state.inspector.clone(),
        state.producer.clone(),
        state.stats.clone(),
    );
    let mut app = Application::builder(
        env!("CARGO_PKG_NAME"),
        shutdown.clone(),
        faults.clone(),
        &settings.admin,
    )
    .required("kafka", move || {
        let inspector = inspector.clone();
        async move { inspector.check().await }
    });
    if settings.kafka.create_topics {
        let topics = create_topics(settings.kafka.clone(), shutdown.child());
        app = app.task(Task::once("topics", topics));
    }
    if settings.roles.worker {
        let worker = Worker::new(settings.clone(), producer.clone(), faults, stats.clone())
            .context("cannot create the Kafka consumer")?;
        app = app.task(Task::until_stopped("worker", worker.run(shutdown.child())));
    }
    let drain = settings.server.drain_timeout;
    let app = app
        .on_stop(producer.flush(drain))
        .bind_http(&settings.server, routes::api(state))
        .await?;
    Ok(app.with_state(stats))
}
