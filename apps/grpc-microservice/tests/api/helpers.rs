//! Starting the app on a free loopback port (test-support's harness) and building
//! gRPC clients for it: poem's `TestClient` speaks HTTP/1.1 only, so the generated
//! clients talk to the real port. Probes and admin calls use the HTTP client the
//! harness provides (`client`, `url`).

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};

use grpc_microservice::proto::InventoryClient;
use grpc_microservice::settings::{DEFAULTS, Settings};
use grpc_microservice::startup;
use grpc_microservice::store::Store;
use poem::{Endpoint, Middleware};
use poem_grpc::{ClientConfig, Code, Status};

// Generated code: its style is prost's and poem-grpc-build's; tests use part of it.
#[allow(clippy::all, unreachable_pub, missing_debug_implementations, dead_code)]
pub mod health_proto {
    poem_grpc::include_proto!("grpc.health.v1");
}

// Generated code: its style is prost's and poem-grpc-build's; tests use part of it.
#[allow(clippy::all, unreachable_pub, missing_debug_implementations, dead_code)]
pub mod reflection_proto {
    poem_grpc::include_proto!("grpc.reflection.v1alpha");
}

pub use test_support::app::ADMIN_TOKEN as TOKEN;

/// A running app; its inventory is `state`.
pub struct TestApp(test_support::app::TestApp<Store>);

impl Deref for TestApp {
    type Target = test_support::app::TestApp<Store>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for TestApp {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

/// Settings for tests: loopback, free port, a small inventory swept often.
pub fn settings() -> Settings {
    test_support::app::settings(
        DEFAULTS,
        &[
            ("APP__INVENTORY__SEED_SKUS", "10"),
            ("APP__INVENTORY__SEED_QUANTITY", "100"),
            ("APP__INVENTORY__SWEEP_INTERVAL", "50ms"),
        ],
    )
}

/// Starts the app with the test settings.
pub async fn spawn() -> TestApp {
    spawn_with(settings()).await
}

/// Starts the app with `settings`.
pub async fn spawn_with(settings: Settings) -> TestApp {
    TestApp(test_support::app::TestApp::start(settings, startup::build).await)
}

impl TestApp {
    /// `http://127.0.0.1:<port>`, for the generated clients.
    pub fn uri(&self) -> String {
        self.address.clone()
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

    pub fn health(&self) -> health_proto::HealthClient {
        health_proto::HealthClient::new(self.config())
    }

    pub fn reflection(&self) -> reflection_proto::ServerReflectionClient {
        reflection_proto::ServerReflectionClient::new(self.config())
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
