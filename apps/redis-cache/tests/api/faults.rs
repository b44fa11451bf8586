//! The fault scenarios (per request through `x-fault-scenario`, and for all traffic
//! through `/admin/faults`) and the kit's latency and error faults.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use test_support::http::assert_fault_headers_apply;

use crate::helpers::{ADMIN_TOKEN, TestApp, cache_header, spawn_app, spawn_app_with};

async fn read_with(app: &TestApp, id: i64, scenario: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/v1/products/{id}")))
        .header("x-fault-scenario", scenario)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn cache_stampede_lets_every_concurrent_miss_reach_the_origin() {
    let app = spawn_app_with(|s| s.origin.latency = Duration::from_millis(200)).await;
    let reads = (0..10).map(|_| read_with(&app, 12, "cache_stampede"));
    for response in futures_util::future::join_all(reads).await {
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(app.counter("origin_calls").await, 10);
    assert_eq!(app.counter("coalesced_waits").await, 0);
}

#[tokio::test]
async fn hot_key_sends_reads_to_one_product() {
    let app = spawn_app_with(|s| s.scenarios.hot_key_id = 42).await;
    for id in [1, 2, 3] {
        let product: Value = read_with(&app, id, "hot_key").await.json().await.unwrap();
        assert_eq!(product["id"], 42);
    }
    assert_eq!(app.counter("origin_calls").await, 1);
    assert_eq!(app.counter("hits").await, 2);
}

#[tokio::test]
async fn ttl_too_short_makes_entries_expire_at_once() {
    let app = spawn_app().await;
    let response = read_with(&app, 5, "ttl_too_short").await;
    assert_eq!(cache_header(&response), "miss");
    assert!(app.pttl("product:5").await <= 50);
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(
        cache_header(&read_with(&app, 5, "ttl_too_short").await),
        "miss"
    );
    assert_eq!(app.counter("origin_calls").await, 2);
}

#[tokio::test]
async fn the_admin_endpoint_switches_scenarios_for_all_traffic() {
    let app = spawn_app().await;
    let admin = |request: reqwest::RequestBuilder| request.bearer_auth(ADMIN_TOKEN);
    let listed: Value = admin(app.client.get(app.url("/admin/faults")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for scenario in ["cache_stampede", "hot_key", "ttl_too_short"] {
        assert!(listed.to_string().contains(scenario), "{listed}");
    }
    let switched = admin(app.client.put(app.url("/admin/faults/hot_key")))
        .json(&json!({"enabled": true, "rate": 1.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(switched.status(), StatusCode::OK);
    let product: Value = app.get("/api/v1/products/77").await.json().await.unwrap();
    assert_eq!(product["id"], 1);
    admin(app.client.delete(app.url("/admin/faults")))
        .send()
        .await
        .unwrap();
    let product: Value = app.get("/api/v1/products/77").await.json().await.unwrap();
    assert_eq!(product["id"], 77);
    assert_eq!(
        app.get("/admin/faults").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn latency_and_error_headers_apply() {
    let app = spawn_app().await;
    let request = || app.client.get(app.url("/api/v1/products/1"));
    assert_fault_headers_apply(request, StatusCode::OK).await;
}
