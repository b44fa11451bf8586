//! `spawn_app`: the real application on a free port, with its own freshly created
//! database (dropped afterwards) behind a [`Proxy`], plus small request helpers.
//! Plain requests (`get`, `post`, `url`, `wait_ready`, ...) come from [`HttpClient`]
//! through `Deref`.

use std::ops::Deref;
use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use service_kit::shutdown::Shutdown;
use sql_application::settings::{DEFAULTS, Settings};
use sql_application::startup::Application;
use sqlx::{Connection, Executor, PgConnection, PgPool};
use test_support::http::HttpClient;
use tokio::task::JoinHandle;

use crate::proxy::Proxy;

/// The shared server of `cargo xtask services up` (override with `TEST_PG_HOST/PORT`).
fn server() -> (String, u16) {
    let host = std::env::var("TEST_PG_HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port = std::env::var("TEST_PG_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(5432);
    (host, port)
}

/// A URL of `database` on the shared server, as the `postgres` superuser.
pub fn admin_url(database: &str) -> String {
    let (host, port) = server();
    format!("postgres://postgres:postgres@{host}:{port}/{database}?sslmode=disable")
}

/// The admin token tests use.
pub const ADMIN_TOKEN: &str = "test-admin-token";

/// A running app with its own database.
pub struct TestApp {
    /// Requests to the app.
    pub http: HttpClient,
    /// Between the app and PostgreSQL.
    pub proxy: Proxy,
    /// A pool straight to the test database (bypassing the proxy) for assertions.
    pub db: PgPool,
    /// Fires the app's graceful shutdown.
    pub shutdown: Shutdown,
    /// The serving task.
    pub server: Option<JoinHandle<std::io::Result<()>>>,
    database: String,
}

/// Starts the app with default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the app after `configure` adjusted its settings.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let database = format!("test_{:016x}", fastrand::u64(..));
    let mut admin = PgConnection::connect(&admin_url("postgres"))
        .await
        .expect("PostgreSQL is not reachable on 127.0.0.1:5432; run `cargo xtask services up`");
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .await
        .unwrap();
    admin.close().await.unwrap();

    let proxy = Proxy::start(server()).await;
    let mut settings: Settings = service_kit::config::load_from(DEFAULTS, None, []).unwrap();
    settings.server.port = 0;
    settings.server.drain_timeout = Duration::from_secs(5);
    settings.database.host = "127.0.0.1".into();
    settings.database.port = proxy.port;
    settings.database.name = database.clone();
    settings.database.acquire_timeout = Duration::from_millis(800);
    settings.admin.token = ADMIN_TOKEN.to_owned().into();
    configure(&mut settings);

    let shutdown = Shutdown::new();
    let app = Application::build(settings, shutdown.clone())
        .await
        .unwrap();
    let http = HttpClient::new(app.port());
    let server = tokio::spawn(app.run_until_stopped());
    let db = PgPool::connect(&admin_url(&database)).await.unwrap();
    let test = TestApp {
        http,
        proxy,
        db,
        shutdown,
        server: Some(server),
        database,
    };
    test.wait_ready(Duration::from_secs(20)).await;
    test
}

impl Deref for TestApp {
    type Target = HttpClient;

    fn deref(&self) -> &HttpClient {
        &self.http
    }
}

impl TestApp {
    /// Creates a product and returns its id.
    pub async fn product(&self, sku: &str, price_cents: i64, stock: i32) -> i64 {
        let body = json!({"sku": sku, "name": format!("Product {sku}"), "price_cents": price_cents, "stock": stock});
        let response = self.post("/api/v1/products", &body).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    /// Creates a customer and returns its id.
    pub async fn customer(&self, email: &str) -> i64 {
        let response = self
            .post(
                "/api/v1/customers",
                &json!({"email": email, "name": "Test Customer"}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    /// Places an order of `(product, quantity)` lines, returning the response.
    pub async fn order(&self, customer: i64, lines: &[(i64, i32)], key: Option<&str>) -> Response {
        let items: Vec<Value> = lines
            .iter()
            .map(|(p, q)| json!({"product_id": p, "quantity": q}))
            .collect();
        let mut request = self
            .client
            .post(self.url("/api/v1/orders"))
            .json(&json!({"customer_id": customer, "items": items}));
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send().await.unwrap()
    }

    /// A product's stock, read straight from the database.
    pub async fn stock(&self, product: i64) -> i32 {
        sqlx::query_scalar("SELECT stock FROM products WHERE id = $1")
            .bind(product)
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// Number of rows in `table`, read straight from the database.
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&self.db)
            .await
            .unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.trigger();
        if let Some(server) = self.server.take() {
            server.abort();
        }
        let database = self.database.clone();
        test_support::http::block_on_own_thread(async move {
            if let Ok(mut admin) = PgConnection::connect(&admin_url("postgres")).await {
                let _ = admin
                    .execute(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
                    )))
                    .await;
            }
        });
    }
}

pub use test_support::http::assert_problem;
