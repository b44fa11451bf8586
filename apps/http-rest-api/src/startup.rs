//! Wiring: builds the store, token issuer, rate limiter and fault model from the
//! settings, mounts the API, docs, probes and admin routes, and binds the listener.

use std::io;
use std::time::Duration;

use poem::endpoint::BoxEndpoint;
use poem::{EndpointExt, Route};
use service_kit::faults::middleware::FaultMiddleware;
use service_kit::faults::{Faults, admin};
use service_kit::health::{self, Readiness};
use service_kit::server;
use service_kit::shutdown::Shutdown;
use tokio::net::TcpListener;

use crate::api::error::Problems;
use crate::api::{self, Apis, images, products, reports, tokens};
use crate::auth::Auth;
use crate::faults::CATALOG;
use crate::rate_limit::RateLimiter;
use crate::settings::{DEFAULTS, Settings};
use crate::store::Store;
use crate::upload_limit::UploadLimit;

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
    /// (port 0 picks a free one; see [`Application::port`]). Stops serving when
    /// `shutdown` fires.
    pub async fn build(settings: Settings, shutdown: Shutdown) -> Result<Self, StartError> {
        let faults = Faults::new(settings.faults.clone(), CATALOG)?;
        let store = Store::new(settings.store.capacity, settings.store.image_bytes);
        let auth = Auth::new(&settings.auth);
        let limit = UploadLimit {
            max_file_bytes: settings.images.max_bytes,
        };
        let service = api::service(apis(&settings, &store, &auth));
        let spec = service.spec_endpoint();
        let docs = service.swagger_ui();
        let readiness = Readiness::new(shutdown.clone(), Duration::from_secs(2));

        let app = Route::new()
            .nest("/", service)
            .at("/openapi.json", spec)
            .nest("/docs", docs)
            .at("/healthz", health::routes(readiness.clone()))
            .at("/readyz", health::routes(readiness))
            .nest_no_strip("/admin", admin::routes(faults.clone(), &settings.admin))
            .with(RateLimiter::new(settings.rate_limit.clone()))
            .with(FaultMiddleware::new(faults))
            .with(Problems)
            .data(auth)
            .data(limit)
            .boxed();

        let listener = server::bind(&settings.server).await?;
        let port = listener.local_addr()?.port();
        tracing::info!(
            port,
            capacity = settings.store.capacity,
            rate_limit = settings.rate_limit.enabled,
            "http-rest-api listening"
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

    /// The store (tests seed and inspect it).
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    /// Serves until shutdown, then drains in-flight requests for `server.drain_timeout`.
    pub async fn run_until_stopped(self) -> io::Result<()> {
        server::serve(self.listener, self.endpoint, self.shutdown, self.drain).await
    }
}

fn apis(settings: &Settings, store: &Store, auth: &Auth) -> Apis {
    (
        products::ProductsApi {
            store: store.clone(),
            pages: settings.store.clone(),
        },
        images::ImagesApi {
            store: store.clone(),
            allowed_types: settings.images.allowed_types.clone(),
            limit: UploadLimit {
                max_file_bytes: settings.images.max_bytes,
            },
        },
        tokens::TokensApi { auth: auth.clone() },
        reports::ReportsApi {
            store: store.clone(),
            slow_delay: settings.reports.slow_delay,
        },
    )
}

/// The OpenAPI document as served, built from the defaults (what `openapi.json` holds).
pub fn openapi_document() -> String {
    let settings: Settings = service_kit::config::load_from(DEFAULTS, None, Vec::new())
        .unwrap_or_else(|err| panic!("the built-in defaults must load: {err}"));
    let store = Store::new(0, 0);
    let auth = Auth::new(&settings.auth);
    let mut json = api::service(apis(&settings, &store, &auth)).spec();
    json.push('\n');
    json
}

impl service_kit::app::App for Application {
    fn port(&self) -> u16 {
        self.port
    }

    fn run_until_stopped(self) -> impl Future<Output = io::Result<()>> + Send {
        Application::run_until_stopped(self)
    }
}
