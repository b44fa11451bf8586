//! Starting the real app on port 0 with test settings, and small clients for it.

use http_rest_api::settings::{DEFAULTS, Settings};
use http_rest_api::startup::Application;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use service_kit::shutdown::Shutdown;
use tokio::task::JoinHandle;

/// The admin token every test app is configured with.
pub const ADMIN_TOKEN: &str = "test-admin-token";

/// A running app.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// The bound port.
    pub port: u16,
    /// A client without a token.
    pub client: Client,
    /// Fires the app's shutdown.
    pub shutdown: Shutdown,
    /// Completes when the server has drained.
    pub server: JoinHandle<std::io::Result<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

/// Starts the app with the test defaults (rate limit off) and `overrides`
/// (`APP__SECTION__KEY`, value).
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    let mut env = vec![
        ("APP__SERVER__HOST", "127.0.0.1"),
        ("APP__SERVER__PORT", "0"),
        ("APP__SERVER__DRAIN_TIMEOUT", "5s"),
        ("APP__ADMIN__TOKEN", ADMIN_TOKEN),
        ("APP__AUTH__JWT_SECRET", "test-jwt-secret"),
        ("APP__RATE_LIMIT__ENABLED", "false"),
    ];
    env.extend_from_slice(overrides);
    let env = env.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned()));
    let settings: Settings = service_kit::config::load_from(DEFAULTS, None, env).unwrap();
    let shutdown = Shutdown::new();
    let app = Application::build(settings, shutdown.clone())
        .await
        .unwrap();
    let port = app.port();
    let server = tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: Client::new(),
        shutdown,
        server,
    }
}

/// Starts the app with the test defaults.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

impl TestApp {
    /// The URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A bearer token for a default demo user (`reader`, `editor`, `admin`).
    pub async fn token(&self, user: &str) -> String {
        let response = self
            .client
            .post(self.url("/api/v1/auth/token"))
            .json(&json!({ "username": user, "password": format!("{user}-password") }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Creates a product as `editor`; returns its JSON.
    pub async fn create_product(&self, token: &str, body: &Value) -> Response {
        self.client
            .post(self.url("/api/v1/products"))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Creates a valid product with this SKU and returns its JSON.
    pub async fn seed(&self, token: &str, sku: &str, category: &str, price: i64) -> Value {
        let response = self
            .create_product(token, &product(sku, category, price))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{sku}");
        response.json().await.unwrap()
    }
}

/// A valid product document.
pub fn product(sku: &str, category: &str, price: i64) -> Value {
    json!({
        "sku": sku,
        "name": format!("Product {sku}"),
        "description": "A thing",
        "category": category,
        "price_cents": price,
        "stock": 5
    })
}

/// The JSON of a problem response, after checking its status and media type.
pub async fn problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    response.json().await.unwrap()
}

/// The field names a validation problem lists.
pub fn fields(problem: &Value) -> Vec<String> {
    let mut fields: Vec<String> = problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default();
    fields.sort();
    fields
}
