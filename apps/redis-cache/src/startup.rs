//! Building the application from its settings: the Redis connection manager, the
//! origin, the price subscriber, routes, fault model, probes and a bound listener
//! (port 0 in tests), then serving until shutdown.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use poem::endpoint::BoxEndpoint;
use poem::{EndpointExt, IntoEndpoint, Route};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use service_kit::faults::Faults;
use service_kit::faults::middleware::FaultMiddleware;
use service_kit::health::{self, Readiness};
use service_kit::shutdown::Shutdown;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::cache::Cache;
use crate::origin::Origin;
use crate::prices::Prices;
use crate::routes::{self, AppState};
use crate::scenarios::CATALOG;
use crate::settings::{RedisSettings, Settings};

/// How long the readiness probe waits for Redis.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// A built, bound, not yet serving application.
pub struct Application {
    listener: TcpListener,
    port: u16,
    endpoint: BoxEndpoint<'static>,
    shutdown: Shutdown,
    drain: Duration,
    subscriber: JoinHandle<()>,
    state: AppState,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// A connection manager that connects lazily and reconnects by itself, every
/// command bounded by `response_timeout`.
pub fn connection_manager(settings: &RedisSettings) -> anyhow::Result<ConnectionManager> {
    let client = settings.client().context("invalid `redis` settings")?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(settings.connect_timeout))
        .set_response_timeout(Some(settings.response_timeout))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(200));
    Ok(ConnectionManager::new_lazy_with_config(client, config)?)
}

/// The handlers' state (the OpenAPI sync test builds it without serving).
pub fn state(settings: Settings) -> anyhow::Result<AppState> {
    let redis = connection_manager(&settings.redis)?;
    let origin = Origin::new(&settings.origin)?;
    let cache = Cache::new(
        redis,
        origin,
        &settings.redis.key_prefix,
        settings.cache.clone(),
    );
    let prices = Prices::new(format!("{}prices", settings.redis.key_prefix));
    Ok(AppState {
        cache,
        prices,
        settings: Arc::new(settings),
    })
}

async fn ping(mut redis: ConnectionManager) -> Result<(), String> {
    redis::cmd("PING")
        .query_async::<String>(&mut redis)
        .await
        .map(|_| ())
        .map_err(|err| err.to_string())
}

impl Application {
    /// Validates the settings, starts the price subscriber and binds the listener.
    /// Redis may be down: the app then starts degraded and recovers when it returns.
    pub async fn build(settings: Settings, shutdown: Shutdown) -> anyhow::Result<Self> {
        let faults =
            Faults::new(settings.faults.clone(), CATALOG).context("invalid `faults` settings")?;
        let listener = service_kit::server::bind(&settings.server).await?;
        let port = listener.local_addr()?.port();
        let drain = settings.server.drain_timeout;
        let client = settings.redis.client()?;
        let (timeout, delay) = (
            settings.redis.connect_timeout,
            settings.redis.resubscribe_delay,
        );
        let state = state(settings)?;
        let subscriber = tokio::spawn(state.prices.clone().run(
            client,
            timeout,
            delay,
            shutdown.clone(),
        ));
        let readiness = Readiness::new(shutdown.clone(), PROBE_TIMEOUT)
            .optional("redis", {
                let redis = state.cache.redis();
                move || ping(redis.clone())
            })
            .optional("redis-subscriber", {
                let prices = state.prices.clone();
                move || {
                    let subscribed = prices.is_subscribed();
                    async move {
                        if subscribed {
                            Ok(())
                        } else {
                            Err("not subscribed to the price channel".to_owned())
                        }
                    }
                }
            });
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
            .with(FaultMiddleware::new(faults))
            .around(service_kit::problem::problem_errors)
            .into_endpoint()
            .boxed();
        Ok(Self {
            listener,
            port,
            endpoint,
            shutdown,
            drain,
            subscriber,
            state,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The handlers' state (tests read the counters).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until shutdown, drains in-flight requests, then stops the subscriber.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = service_kit::server::serve(
            self.listener,
            self.endpoint,
            self.shutdown.clone(),
            self.drain,
        )
        .await;
        self.shutdown.trigger();
        let _ = self.subscriber.await;
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
