//! Starting the app on a free loopback port and building clients for it.

use std::sync::{Arc, Mutex};

use grpc_microservice::proto::InventoryClient;
use grpc_microservice::settings::Settings;
use grpc_microservice::startup::Application;
use grpc_microservice::store::Store;
use poem::{Endpoint, Middleware};
use poem_grpc::{ClientConfig, Code, Status};
use service_kit::shutdown::Shutdown;
use tokio::task::JoinHandle;

#[allow(clippy::all, unreachable_pub, missing_debug_implementations, dead_code)]
pub mod health_proto {
    poem_grpc::include_proto!("grpc.health.v1");
}

#[allow(clippy::all, unreachable_pub, missing_debug_implementations, dead_code)]
pub mod reflection_proto {
    poem_grpc::include_proto!("grpc.reflection.v1alpha");
}

/// Admin token the tests configure.
pub const TOKEN: &str = "test-admin-token";

/// A running app.
pub struct TestApp {
    pub port: u16,
    pub store: Store,
    pub shutdown: Shutdown,
    pub server: JoinHandle<std::io::Result<()>>,
}

/// Settings for tests: loopback, free port, a small inventory.
pub fn settings() -> Settings {
    let mut settings = Settings::defaults();
    settings.server.host = "127.0.0.1".into();
    settings.server.port = 0;
    settings.server.drain_timeout = std::time::Duration::from_secs(5);
    settings.inventory.seed_skus = 10;
    settings.inventory.seed_quantity = 100;
    settings.inventory.sweep_interval = std::time::Duration::from_millis(50);
    settings.admin.token = TOKEN.to_owned().into();
    settings
}

/// Starts the app with the test settings.
pub async fn spawn() -> TestApp {
    spawn_with(settings()).await
}

/// Starts the app with `settings`.
pub async fn spawn_with(settings: Settings) -> TestApp {
    let shutdown = Shutdown::new();
    let app = Application::build(settings, shutdown.clone())
        .await
        .unwrap();
    let port = app.port();
    let store = app.store();
    let server = tokio::spawn(app.run_until_stopped());
    TestApp {
        port,
        store,
        shutdown,
        server,
    }
}

impl TestApp {
    pub fn uri(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn config(&self) -> ClientConfig {
        ClientConfig::builder().uri(self.uri()).build().unwrap()
    }

    pub fn client(&self) -> InventoryClient {
        InventoryClient::new(self.config())
    }

    /// A client that also keeps the `grpc-status-details-bin` trailer of each call.
    pub fn client_with_details(&self) -> (InventoryClient, Arc<Mutex<Option<String>>>) {
        let seen = Arc::new(Mutex::new(None));
        let keep = seen.clone();
        let client = InventoryClient::new(self.config()).with(KeepDetails(keep));
        (client, seen)
    }

    pub fn http(&self) -> reqwest::Client {
        reqwest::Client::new()
    }

    pub fn health(&self) -> health_proto::HealthClient {
        health_proto::HealthClient::new(self.config())
    }

    pub fn reflection(&self) -> reflection_proto::ServerReflectionClient {
        reflection_proto::ServerReflectionClient::new(self.config())
    }

    pub async fn stop(self) {
        self.shutdown.trigger();
        self.server.await.unwrap().unwrap();
    }
}

/// The code of a failed call, or a panic naming the unexpected success.
pub fn code<T: std::fmt::Debug>(result: Result<T, Status>) -> Code {
    match result {
        Ok(value) => panic!("expected a failure, got {value:?}"),
        Err(status) => status.code(),
    }
}

/// Client middleware keeping the `grpc-status-details-bin` header of each answer.
struct KeepDetails(Arc<Mutex<Option<String>>>);

impl<E: Endpoint> Middleware<E> for KeepDetails {
    type Output = KeepDetailsEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        KeepDetailsEndpoint(inner, self.0.clone())
    }
}

struct KeepDetailsEndpoint<E>(E, Arc<Mutex<Option<String>>>);

impl<E: Endpoint> Endpoint for KeepDetailsEndpoint<E> {
    type Output = poem::Response;

    async fn call(&self, req: poem::Request) -> poem::Result<Self::Output> {
        let resp = poem::IntoResponse::into_response(self.0.call(req).await?);
        let value = resp
            .headers()
            .get("grpc-status-details-bin")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        *self.1.lock().unwrap() = value;
        Ok(resp)
    }
}
