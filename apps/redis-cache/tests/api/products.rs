//! Cache-aside reads: miss then hit, TTLs, stale-while-refresh, negative caching,
//! explicit invalidation, single flight, bad ids, probes.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_problem, cache_header, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_miss_fills_the_cache_and_the_next_read_hits() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/products/7").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(cache_header(&response), "miss");
    assert!(response.headers().get("x-cache-degraded").is_none());
    let product: Value = response.json().await.unwrap();
    assert_eq!(product["id"], 7);
    assert_eq!(product["sku"], "SKU-000007");
    assert_eq!(app.read(7).await, (StatusCode::OK, "hit".into()));
    let ttl = app.pttl("product:7").await;
    assert!(
        (60_000..=90_000).contains(&ttl),
        "ttl + stale window: {ttl}"
    );
    let stats = app.stats().await;
    assert_eq!(stats["cache"]["hits"], 1);
    assert_eq!(stats["cache"]["misses"], 1);
    assert_eq!(stats["cache"]["origin_calls"], 1);
    assert_eq!(stats["cache"]["hit_ratio"], 0.5);
}

#[tokio::test]
async fn a_missing_product_is_remembered_for_the_negative_ttl() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/products/5000").await;
    assert_eq!(cache_header(&response), "miss");
    assert_problem(response, StatusCode::NOT_FOUND, "not-found").await;
    assert_eq!(app.read(5000).await, (StatusCode::NOT_FOUND, "hit".into()));
    assert_eq!(app.counter("negative_hits").await, 1);
    assert_eq!(app.counter("origin_calls").await, 1);
    let ttl = app.pttl("product:5000").await;
    assert!((1..=10_000).contains(&ttl), "{ttl}");
}

#[tokio::test]
async fn an_expired_entry_is_served_stale_and_refreshed() {
    let app = spawn_app_with(|s| {
        s.cache.ttl = Duration::from_millis(200);
        s.cache.stale_ttl = Duration::from_secs(5);
    })
    .await;
    assert_eq!(app.read(3).await.1, "miss");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.read(3).await.1, "stale");
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(app.read(3).await.1, "hit", "refreshed in the background");
    assert_eq!(app.counter("origin_calls").await, 2);
}

#[tokio::test]
async fn invalidation_drops_the_entry() {
    let app = spawn_app().await;
    app.read(9).await;
    let response = app
        .client
        .delete(app.url("/api/v1/products/9/cache"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.pttl("product:9").await, -2);
    assert_eq!(app.read(9).await.1, "miss");
    assert_eq!(app.counter("invalidations").await, 1);
}

#[tokio::test]
async fn concurrent_misses_of_one_key_call_the_origin_once() {
    let app = spawn_app_with(|s| s.origin.latency = Duration::from_millis(200)).await;
    let reads = (0..20).map(|_| app.read(11));
    let results = futures_util::future::join_all(reads).await;
    assert!(results.iter().all(|(status, _)| *status == StatusCode::OK));
    assert_eq!(app.counter("origin_calls").await, 1);
    assert!(app.counter("coalesced_waits").await >= 10);
}

#[tokio::test]
async fn bad_ids_and_unknown_routes_are_problems() {
    let app = spawn_app().await;
    assert_problem(
        app.get("/api/v1/products/0").await,
        StatusCode::BAD_REQUEST,
        "bad-parameter",
    )
    .await;
    let response = app.get("/api/v1/products/abc").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/problem+json")
    );
    let response = app.get("/api/v1/nothing").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = app
        .client
        .delete(app.url("/api/v1/products/-1/cache"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn probes_and_the_openapi_document_answer() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    let ready: Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["checks"]["redis"]["status"], "up");
    let spec: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert!(spec["paths"]["/api/v1/products/{id}"].is_object());
}

#[tokio::test]
async fn an_unreachable_http_origin_is_a_bad_gateway() {
    let app = spawn_app_with(|s| {
        s.origin.url = "http://127.0.0.1:1".into();
        s.origin.timeout = Duration::from_millis(500);
    })
    .await;
    assert_problem(
        app.get("/api/v1/products/1").await,
        StatusCode::BAD_GATEWAY,
        "origin-unavailable",
    )
    .await;
    let response = app
        .client
        .put(app.url("/api/v1/products/1/price"))
        .json(&serde_json::json!({"price_cents": 5}))
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::BAD_GATEWAY, "origin-unavailable").await;
}
