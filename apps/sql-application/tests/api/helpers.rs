//! `spawn_app`: the real application on a free port (test-support's harness), with a
//! fresh database of its own (dropped afterwards) behind a [`Proxy`], plus small
//! request helpers. Plain requests (`get`, `post`, `url`, `wait_ready`, ...) come from
//! test-support through `Deref`.

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use sql_application::settings::{DEFAULTS, Settings};
use sql_application::startup;
use sqlx::PgPool;
use test_support::postgres::FreshDatabase;

use crate::proxy::Proxy;

pub use test_support::app::ADMIN_TOKEN;
pub use test_support::http::assert_problem;
pub use test_support::postgres::admin_url;

/// A running app with its own database.
pub struct TestApp {
    /// The app (requests through `Deref`).
    pub app: test_support::app::TestApp,
    /// Between the app and PostgreSQL.
    pub proxy: Proxy,
    /// A pool straight to the test database (bypassing the proxy) for assertions.
    pub db: PgPool,
    // Dropped last: after the app stopped.
    _database: FreshDatabase,
}

/// Starts the app with default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the app after `configure` adjusted its settings.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let database = FreshDatabase::create().await;
    let proxy = Proxy::start(test_support::postgres::server()).await;
    let mut settings: Settings = test_support::app::settings(DEFAULTS, &[]);
    settings.database.host = "127.0.0.1".into();
    settings.database.port = proxy.port;
    settings.database.name = database.name.clone();
    // Generous: opening a connection (SCRAM in a debug build) counts against it,
    // and takes hundreds of milliseconds on a busy two-core machine. Tests of
    // failing fast set their own.
    settings.database.acquire_timeout = Duration::from_secs(5);
    configure(&mut settings);
    let app = test_support::app::TestApp::start(settings, startup::build).await;
    let db = PgPool::connect(&database.url()).await.unwrap();
    let test = TestApp {
        app,
        proxy,
        db,
        _database: database,
    };
    test.wait_ready(Duration::from_secs(20)).await;
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
