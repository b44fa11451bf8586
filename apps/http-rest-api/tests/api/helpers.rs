//! `spawn_app`: the real app on a free port with test settings (rate limit off, a
//! fixed token secret), plus the catalog's request helpers. Plain requests (`client`,
//! `url`, ...) come from test-support through `Deref`.

use std::ops::Deref;

use http_rest_api::settings::{DEFAULTS, Settings};
use http_rest_api::startup;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

pub use test_support::app::ADMIN_TOKEN;
pub use test_support::http::{fields, problem};

/// A running app.
pub struct TestApp(test_support::app::TestApp);

impl Deref for TestApp {
    type Target = test_support::app::TestApp;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for TestApp {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

/// Starts the app with the test defaults (rate limit off) and `overrides`
/// (`APP__SECTION__KEY`, value).
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    let mut all = vec![
        ("APP__AUTH__JWT_SECRET", "test-jwt-secret"),
        ("APP__RATE_LIMIT__ENABLED", "false"),
    ];
    all.extend_from_slice(overrides);
    let settings: Settings = test_support::app::settings(DEFAULTS, &all);
    TestApp(test_support::app::TestApp::start(settings, startup::build).await)
}

/// Starts the app with the test defaults.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

impl TestApp {
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
