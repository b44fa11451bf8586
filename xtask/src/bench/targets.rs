//! Each app's hot request as the bench's own client (`openload`) sends it, seeded
//! through the app's API first: what `bench tenx` loads and what the light-client
//! phase of `bench all` measures. The same request as the app's own bench row.
//!
//! checkout has none: every journey needs a fresh Idempotency-Key and a cart, which
//! its own bench (wrk with a Lua script) and its k6 mix provide.

use anyhow::{Context, Result};
use serde_json::json;

use super::openload::Target;
use crate::apps::App;
use crate::http::post_json;

/// Ids a target cycles through.
const IDS: usize = 200;

/// The hot request of `app`, seeded; `None` for an app that has none (checkout).
pub fn hot(app: &App) -> Result<Option<Target>> {
    let base_url = app.base_url();
    let target = |name: &str, paths: Vec<String>| Target {
        name: name.to_owned(),
        base_url: base_url.clone(),
        paths,
        method: "GET",
        body: None,
        headers: Vec::new(),
        grpc_bodies: Vec::new(),
    };
    Ok(Some(match app.name {
        "http-rest-api" => {
            let ids = seed_catalog(&base_url).context("cannot seed http-rest-api's catalog")?;
            target(
                "GET /api/v1/products/{id}",
                ids.iter()
                    .map(|id| format!("/api/v1/products/{id}"))
                    .collect(),
            )
        }
        "sql-application" => {
            let ids = super::sql_application::seed_orders(&base_url)
                .context("cannot seed sql-application's orders")?;
            target(
                "GET /api/v1/orders/{id}",
                ids.iter()
                    .map(|id| format!("/api/v1/orders/{id}"))
                    .collect(),
            )
        }
        // Its catalog is seeded by the app (products 1..); the cache warms on first read.
        "redis-cache" => target(
            "GET /api/v1/products/{id} (cached)",
            (1..=IDS)
                .map(|id| format!("/api/v1/products/{id}"))
                .collect(),
        ),
        "kafka-streaming" => Target {
            method: "POST",
            body: Some(super::kafka_streaming::event().to_string()),
            headers: vec!["content-type: application/json".into()],
            ..target(
                "POST /api/v1/events (1 event, acks=all)",
                vec!["/api/v1/events".into()],
            )
        },
        // The inventory seeds SKU-00001 .. SKU-01000 itself.
        "grpc-microservice" => Target {
            method: "POST",
            grpc_bodies: super::grpc_microservice::get_stock_bodies(),
            ..target(
                "unary GetStock",
                vec!["/inventory.v1.Inventory/GetStock".into()],
            )
        },
        _ => return Ok(None),
    }))
}

/// Creates products in http-rest-api's in-memory catalog (it starts empty) with the
/// demo editor's token; returns their ids.
fn seed_catalog(base_url: &str) -> Result<Vec<u64>> {
    let login = post_json(
        base_url,
        "/api/v1/auth/token",
        &[],
        &json!({"username": "editor", "password": "editor-password"}),
        200,
    )?;
    let token = login
        .get("access_token")
        .and_then(serde_json::Value::as_str)
        .context("no access_token")?;
    let bearer = format!("Bearer {token}");
    let run = std::process::id();
    (0..IDS)
        .map(|i| {
            let body = json!({"sku": format!("LOAD-{run}-{i}"), "name": format!("Load product {i}"),
                              "description": "seeded by cargo xtask bench", "category": "kitchen",
                              "price_cents": 100 + i, "stock": 1000});
            let answer = post_json(
                base_url,
                "/api/v1/products",
                &[("Authorization", &bearer)],
                &body,
                201,
            )?;
            answer
                .get("id")
                .and_then(serde_json::Value::as_u64)
                .with_context(|| format!("no id in {answer}"))
        })
        .collect()
}
