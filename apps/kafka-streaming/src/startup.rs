//! Building the application from its settings: Kafka clients, topic creation, the
//! worker, routes, fault model, probes and a bound listener; serving until shutdown,
//! then stopping the worker (it commits) and flushing the producer.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use poem::endpoint::BoxEndpoint;
use poem::{EndpointExt, IntoEndpoint, Route};
use rdkafka::producer::{FutureProducer, Producer};
use service_kit::faults::Faults;
use service_kit::faults::middleware::FaultMiddleware;
use service_kit::health::{self, Readiness};
use service_kit::shutdown::Shutdown;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::routes::{self, AppState};
use crate::scenarios::CATALOG;
use crate::settings::Settings;
use crate::worker::{Stats, Worker};

/// A built, bound, not yet serving application.
pub struct Application {
    listener: TcpListener,
    port: u16,
    endpoint: BoxEndpoint<'static>,
    shutdown: Shutdown,
    drain: Duration,
    producer: FutureProducer,
    background: Vec<JoinHandle<()>>,
    faults: Faults,
    stats: Arc<Stats>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Validates the fault settings, creates the clients, starts creating topics and
    /// the worker in the background and binds the listener. The broker may be down:
    /// the app then starts not ready and becomes ready when it returns.
    pub async fn build(settings: Settings, shutdown: Shutdown) -> anyhow::Result<Self> {
        let faults =
            Faults::new(settings.faults.clone(), CATALOG).context("invalid `faults` settings")?;
        let settings = Arc::new(settings);
        let producer = crate::kafka::producer(&settings.kafka, "producer")
            .context("cannot create the Kafka producer")?;
        let inspector = Arc::new(
            crate::kafka::inspector(&settings.kafka).context("cannot create the Kafka client")?,
        );
        let stats = Arc::new(Stats::default());
        let mut background = Vec::new();
        if settings.kafka.create_topics {
            background.push(tokio::spawn(crate::kafka::create_topics(
                settings.kafka.clone(),
                shutdown.child(),
            )));
        }
        if settings.roles.worker {
            let worker = Worker::new(
                settings.clone(),
                producer.clone(),
                faults.clone(),
                stats.clone(),
            )
            .context("cannot create the Kafka consumer")?;
            background.push(tokio::spawn(worker.run(shutdown.child())));
        }
        let timeout = settings.kafka.request_timeout;
        let readiness = Readiness::new(shutdown.clone(), timeout + Duration::from_millis(500))
            .required("kafka", {
                let inspector = inspector.clone();
                let topic = settings.kafka.input_topic.clone();
                move || {
                    let inspector = inspector.clone();
                    let topic = topic.clone();
                    async move {
                        tokio::task::spawn_blocking(move || {
                            crate::kafka::check(&inspector, &topic, timeout)
                        })
                        .await
                        .map_err(|err| err.to_string())?
                    }
                }
            });

        let listener = service_kit::server::bind(&settings.server).await?;
        let port = listener.local_addr()?.port();
        let drain = settings.server.drain_timeout;
        let state = AppState {
            producer: producer.clone(),
            inspector,
            stats: stats.clone(),
            settings: settings.clone(),
        };
        let api = routes::api(state);
        let spec = api.spec_endpoint();
        let ui = api.swagger_ui();
        let admin = service_kit::faults::admin::routes(faults.clone(), &settings.admin);
        let endpoint = Route::new()
            .nest_no_strip("/api", api)
            .at("/openapi.json", spec)
            .nest("/docs", ui)
            .nest_no_strip("/admin", admin)
            .nest("/", health::routes(readiness))
            .with(FaultMiddleware::new(faults.clone()))
            .around(service_kit::problem::problem_errors)
            .around(routes::wrong_types_are_invalid)
            .into_endpoint()
            .boxed();
        Ok(Self {
            listener,
            port,
            endpoint,
            shutdown,
            drain,
            producer,
            background,
            faults,
            stats,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The fault model in force.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The worker's counters.
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    /// Serves until shutdown, drains in-flight requests, stops the worker between
    /// two messages (it commits what it processed), then flushes the producer.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = service_kit::server::serve(
            self.listener,
            self.endpoint,
            self.shutdown.clone(),
            self.drain,
        )
        .await;
        self.shutdown.trigger();
        for task in self.background {
            let _ = task.await;
        }
        let producer = self.producer;
        let drain = self.drain;
        let flushed = tokio::task::spawn_blocking(move || producer.flush(drain)).await;
        if let Ok(Err(err)) = flushed {
            tracing::warn!(error = %err, "producer flush incomplete");
        }
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
