//! `spawn_app`: the real application on a free port with its own key prefix, behind
//! a [`Proxy`] to the shared Redis, plus small request helpers. Plain requests
//! (`get`, `url`, `wait_status`, ...) come from [`HttpClient`] through `Deref`.

use std::ops::Deref;
use std::time::Duration;

use redis_cache::settings::{DEFAULTS, Settings};
use redis_cache::startup::Application;
use reqwest::{Response, StatusCode};
use serde_json::Value;
use service_kit::shutdown::Shutdown;
use test_support::http::HttpClient;
use test_support::proxy::Proxy;
use tokio::task::JoinHandle;

/// The shared server of `cargo xtask services up` (override with `TEST_REDIS_HOST/PORT`).
pub fn server() -> (String, u16) {
    let host = std::env::var("TEST_REDIS_HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port = std::env::var("TEST_REDIS_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(6379);
    (host, port)
}

/// The admin token tests use.
pub const ADMIN_TOKEN: &str = "test-admin-token";

/// A running app with its own key prefix.
pub struct TestApp {
    /// Requests to the app.
    pub http: HttpClient,
    /// Between the app and Redis.
    pub proxy: Proxy,
    /// A connection straight to Redis (bypassing the proxy) for assertions.
    pub redis: redis::aio::MultiplexedConnection,
    /// This test's key prefix.
    pub prefix: String,
    /// Fires the app's graceful shutdown.
    pub shutdown: Shutdown,
    /// The serving task.
    pub server: Option<JoinHandle<std::io::Result<()>>>,
}

/// Starts the app with default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the app after `configure` adjusted its settings.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let (host, port) = server();
    let redis = redis::Client::open(format!("redis://{host}:{port}"))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .expect("Redis is not reachable on 127.0.0.1:6379; run `cargo xtask services up`");
    let prefix = format!("test-rc-{:016x}:", fastrand::u64(..));
    let proxy = Proxy::start(server()).await;
    let mut settings: Settings = service_kit::config::load_from(DEFAULTS, None, []).unwrap();
    settings.server.port = 0;
    settings.server.drain_timeout = Duration::from_secs(5);
    settings.redis.host = "127.0.0.1".into();
    settings.redis.port = proxy.port;
    settings.redis.key_prefix = prefix.clone();
    settings.redis.resubscribe_delay = Duration::from_millis(100);
    settings.origin.latency = Duration::from_millis(20);
    settings.origin.products = 1000;
    settings.admin.token = ADMIN_TOKEN.to_owned().into();
    configure(&mut settings);

    let shutdown = Shutdown::new();
    let app = Application::build(settings, shutdown.clone())
        .await
        .unwrap();
    let http = HttpClient::new(app.port());
    let server = tokio::spawn(app.run_until_stopped());
    let test = TestApp {
        http,
        proxy,
        redis,
        prefix,
        shutdown,
        server: Some(server),
    };
    test.wait_status("ready", Duration::from_secs(10)).await;
    test
}

impl Deref for TestApp {
    type Target = HttpClient;

    fn deref(&self) -> &HttpClient {
        &self.http
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
            .arg(format!("{}{key}", self.prefix))
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

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.trigger();
        if let Some(server) = self.server.take() {
            server.abort();
        }
        let prefix = self.prefix.clone();
        // With a connection of its own: the test's belongs to the test's runtime.
        test_support::http::block_on_own_thread(async move {
            let (host, port) = server();
            let Ok(mut redis) = redis::Client::open(format!("redis://{host}:{port}"))
                .unwrap()
                .get_multiplexed_async_connection()
                .await
            else {
                return;
            };
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{prefix}*"))
                .query_async(&mut redis)
                .await
                .unwrap_or_default();
            if !keys.is_empty() {
                let _: Result<u64, _> = redis::cmd("DEL").arg(keys).query_async(&mut redis).await;
            }
        });
    }
}

pub use test_support::http::assert_problem;
