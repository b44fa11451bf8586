//! [`Builder`]: what an app adds to the skeleton — readiness checks, background
//! tasks, last steps, its own middleware — before it mounts its routes on the shared
//! ones (probes, admin, OpenAPI document and docs) and binds.

use std::future::Future;
use std::io;
use std::time::Duration;

use futures_util::future::BoxFuture;
use poem::endpoint::BoxEndpoint;
use poem::{EndpointExt, IntoEndpoint, Route};
use poem_openapi::{OpenApi, OpenApiService};
use secrecy::ExposeSecret;

use super::Application;
use crate::body::BodyLimit;
use crate::config::ServerSettings;
use crate::faults::Faults;
use crate::faults::admin::{self, AdminSettings};
use crate::faults::middleware::FaultMiddleware;
use crate::health::{self, Readiness};
use crate::problem::Problems;
use crate::server;
use crate::shutdown::Shutdown;
use crate::tasks::{Task, Tasks};

/// The routes every HTTP app has beside its API, with their methods (for `Allow`).
const KIT_ROUTES: &[(&str, &[&str])] = &[
    ("/healthz", &["get"]),
    ("/readyz", &["get"]),
    ("/openapi.json", &["get"]),
    ("/admin/faults", &["get", "put", "delete"]),
    ("/admin/faults/{name}", &["put"]),
];

/// How long each readiness check may take, for every app: `/readyz` must answer
/// (503, naming the check) before the kubelet's probe gives up, 1 s by default
/// (`timeoutSeconds`). A pool's own acquire timeout (2 s in sql-application), a
/// Kafka metadata request's (`kafka.request_timeout`) or a connect that hangs would
/// otherwise set the answer's time while the service is down, and a probe that times
/// out is logged by the kubelet as a probe failure, not as the app's own verdict.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

type Layer = Box<dyn FnOnce(BoxEndpoint<'static>) -> BoxEndpoint<'static> + Send>;

/// What an app adds to the skeleton before it binds; see [`Application::builder`].
pub struct Builder {
    name: &'static str,
    shutdown: Shutdown,
    faults: Faults,
    admin: AdminSettings,
    readiness: Readiness,
    tasks: Tasks,
    on_stop: Vec<BoxFuture<'static, ()>>,
    layer: Option<Layer>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("name", &self.name)
            .field("readiness", &self.readiness)
            .finish_non_exhaustive()
    }
}

impl Builder {
    pub(super) fn new(
        name: &'static str,
        shutdown: Shutdown,
        faults: Faults,
        admin: &AdminSettings,
    ) -> Self {
        faults.require_header_token(admin.token.expose_secret());
        Self {
            name,
            readiness: Readiness::new(shutdown.clone(), PROBE_TIMEOUT),
            tasks: Tasks::new(shutdown.clone()),
            shutdown,
            faults,
            admin: admin.clone(),
            on_stop: Vec::new(),
            layer: None,
        }
    }

    /// A backing service whose failure makes the app not ready.
    pub fn required<F, Fut>(mut self, name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.readiness = self.readiness.required(name, check);
        self
    }

    /// A backing service whose failure only marks the app degraded.
    pub fn optional<F, Fut>(mut self, name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.readiness = self.readiness.optional(name, check);
        self
    }

    /// Starts a background task now; it is stopped and awaited with the app. A
    /// [`Task::required`] one that fails makes the app not ready.
    pub fn task(mut self, task: Task) -> Self {
        let name = task.name();
        let required = task.is_required();
        let health = self.tasks.spawn(task);
        if required {
            self.readiness = self.readiness.required(name, move || {
                let health = health.clone();
                async move { health.check() }
            });
        }
        self
    }

    /// A last step after the tasks have stopped (close a pool, flush a producer).
    pub fn on_stop<F>(mut self, last: F) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.on_stop.push(Box::pin(last));
        self
    }

    /// The app's own middleware around its routes (inside the fault model and the
    /// problem+json layer), e.g. a rate limiter or request data.
    pub fn layer<F>(mut self, layer: F) -> Self
    where
        F: FnOnce(BoxEndpoint<'static>) -> BoxEndpoint<'static> + Send + 'static,
    {
        self.layer = Some(Box::new(layer));
        self
    }

    /// The fault model (for the app's own uses of it, e.g. a worker rolling a scenario).
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// An HTTP app: the API under `/api`, its document at `/openapi.json`, Swagger UI
    /// at `/docs`, `/admin/faults`, `/healthz` and `/readyz`; the fault model applies
    /// to every request (probes and admin exempt), every error is problem+json (a 405
    /// with `Allow`), and every body is bounded by `server.max_body_bytes` (413).
    /// Binds `server.host:server.port`.
    pub async fn bind_http<T>(
        self,
        server: &ServerSettings,
        api: OpenApiService<T, ()>,
    ) -> io::Result<Application>
    where
        T: OpenApi + 'static,
    {
        let problems = Problems::new(self.name)
            .with_paths(&api.spec())
            .with_routes(KIT_ROUTES);
        let spec = api.spec_endpoint();
        let docs = api.swagger_ui();
        let routes = Route::new()
            .nest_no_strip("/api", api)
            .at("/openapi.json", spec)
            .nest("/docs", docs);
        let faults = FaultMiddleware::new(self.faults.clone());
        let limit = BodyLimit::new(server.max_body_bytes);
        self.bind(server, routes, move |endpoint| {
            endpoint.with(faults).with(problems).with(limit).boxed()
        })
        .await
    }

    /// A gRPC app: `grpc` (which applies the fault model itself, as gRPC statuses),
    /// with `/admin/faults`, `/healthz` and `/readyz` over HTTP/1.1 on the same port.
    /// Binds `server.host:server.port`.
    pub async fn bind_grpc<E>(self, server: &ServerSettings, grpc: E) -> io::Result<Application>
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        self.bind(server, Route::new().nest("/", grpc), |endpoint| endpoint)
            .await
    }

    async fn bind(
        self,
        server: &ServerSettings,
        routes: Route,
        outer: impl FnOnce(BoxEndpoint<'static>) -> BoxEndpoint<'static>,
    ) -> io::Result<Application> {
        let routes = routes.nest_no_strip("/admin", admin::routes(self.faults, &self.admin));
        let routes = health::mount(routes, self.readiness).boxed();
        let routes = match self.layer {
            Some(layer) => layer(routes),
            None => routes,
        };
        let listener = server::bind(server).await?;
        let port = listener.local_addr()?.port();
        Ok(Application {
            name: self.name,
            listener,
            port,
            endpoint: outer(routes),
            shutdown: self.shutdown,
            drain: server.drain_timeout,
            tasks: self.tasks,
            on_stop: self.on_stop,
            state: (),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use poem::http::StatusCode;
    use poem::{get, handler};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::super::fixtures::{DEFAULTS, Settings, builder};
    use super::*;

    #[handler]
    fn hello() -> &'static str {
        "hello"
    }

    async fn get_status(port: u16, path: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response.lines().next().unwrap_or_default().to_owned()
    }

    #[tokio::test]
    async fn every_app_gets_probes_admin_and_problems_and_stops_its_tasks() {
        let shutdown = Shutdown::new();
        let stopped = Arc::new(AtomicBool::new(false));
        let (flag, watched) = (stopped.clone(), shutdown.clone());
        let closed = Arc::new(AtomicBool::new(false));
        let last = closed.clone();
        let settings: Settings = crate::config::load_from(DEFAULTS, None, []).unwrap();
        let app = builder(&shutdown)
            .task(Task::until_stopped("worker", async move {
                watched.wait().await;
                flag.store(true, Ordering::SeqCst);
            }))
            .on_stop(async move { last.store(true, Ordering::SeqCst) })
            .bind_grpc(&settings.server, Route::new().at("/hello", get(hello)))
            .await
            .unwrap();
        let port = app.port();
        let server = tokio::spawn(app.run_until_stopped());
        assert!(get_status(port, "/hello").await.contains("200"));
        assert!(get_status(port, "/healthz").await.contains("200"));
        assert!(get_status(port, "/readyz").await.contains("200"));
        assert!(get_status(port, "/admin/faults").await.contains("401"));
        shutdown.trigger();
        server.await.unwrap().unwrap();
        assert!(stopped.load(Ordering::SeqCst), "the task was stopped");
        assert!(closed.load(Ordering::SeqCst), "the last step ran");
    }

    #[tokio::test]
    async fn a_required_task_that_fails_makes_the_app_not_ready() {
        let shutdown = Shutdown::new();
        let settings: Settings = crate::config::load_from(DEFAULTS, None, []).unwrap();
        let app = builder(&shutdown)
            .task(Task::until_stopped("subscriber", async {}).required())
            .bind_grpc(&settings.server, Route::new())
            .await
            .unwrap();
        let port = app.port();
        let _server = tokio::spawn(app.run_until_stopped());
        tokio::time::sleep(Duration::from_millis(50)).await;
        let status = get_status(port, "/readyz").await;
        assert!(
            status.contains(StatusCode::SERVICE_UNAVAILABLE.as_str()),
            "{status}"
        );
        shutdown.trigger();
    }
}
