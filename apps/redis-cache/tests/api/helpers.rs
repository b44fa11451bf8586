//! `spawn_app`: the real application on a free port (test-support's harness) with a
//! key prefix of its own, behind a [`Proxy`] to the shared Redis, plus small request
//! helpers. Plain requests (`get`, `url`, `wait_status`, ...) come from test-support
//! through `Deref`.

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use redis_cache::settings::{DEFAULTS, Settings};
use redis_cache::startup;
use reqwest::{Response, StatusCode};
use serde_json::Value;
use test_support::proxy::Proxy;
use test_support::redis::KeyPrefix;

pub use test_support::app::ADMIN_TOKEN;
pub use test_support::http::assert_problem;
pub use test_support::redis::server;

/// A running app with its own key prefix.
pub struct TestApp {
    /// The app (requests through `Deref`).
    pub app: test_support::app::TestApp,
    /// Between the app and Redis.
    pub proxy: Proxy,
    /// A connection straight to Redis (bypassing the proxy) for assertions.
    pub redis: redis::aio::MultiplexedConnection,
    /// This test's key prefix (its keys are deleted after the app stopped).
    pub prefix: KeyPrefix,
}

/// Starts the app with default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the app after `configure` adjusted its settings; `proxy` sees each
/// connection the app opens to Redis.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let redis = test_support::redis::connect().await;
    let prefix = KeyPrefix::fresh("rc");
    let proxy = Proxy::start(server()).await;
    let mut settings: Settings = test_support::app::settings(DEFAULTS, &[]);
    settings.redis.host = "127.0.0.1".into();
    settings.redis.port = proxy.port;
    settings.redis.key_prefix = prefix.0.clone();
    settings.redis.resubscribe_delay = Duration::from_millis(100);
    settings.origin.latency = Duration::from_millis(20);
    settings.origin.products = 1000;
    configure(&mut settings);
    let app = test_support::app::TestApp::start(settings, startup::build).await;
    let test = TestApp {
        app,
        proxy,
        redis,
        prefix,
    };
    test.wait_status("ready", Duration::from_secs(10)).await;
    test
}

impl Deref for TestApp {
    type Target = test_support::app::TestApp;

    fn deref(&self) -> &Self::Target {
        &self.app
    }
}

impl DerefMut for TestApp {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.app
    }
}

impl TestApp {
    /// GET `/api/v1/products/{id}`, returning the status and `x-cache`.
    pub async fn read(&self, id: i64) -> (StatusCode, String) {
        let response = self.get(&format!("/api/v1/products/{id}")).await;
        (response.status(), cache_header(&response))
    }

    /// The stats document.
    pub async fn stats(&self) -> Value {
        self.get("/api/v1/stats").await.json().await.unwrap()
    }

    /// A counter of the stats' `cache` section.
    pub async fn counter(&self, name: &str) -> u64 {
        self.stats().await["cache"][name].as_u64().unwrap()
    }

    /// Remaining TTL of `key` (under this test's prefix) in milliseconds.
    pub async fn pttl(&self, key: &str) -> i64 {
        redis::cmd("PTTL")
            .arg(format!("{}{key}", self.prefix.0))
            .query_async(&mut self.redis.clone())
            .await
            .unwrap()
    }
}

/// The `x-cache` header, or empty.
pub fn cache_header(response: &Response) -> String {
    response
        .headers()
        .get("x-cache")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
