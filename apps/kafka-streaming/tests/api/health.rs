//! Probes and roles: ready with the broker, not ready and 503 (after a bounded wait,
//! never a silent 202) without it; each role can be switched off.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Names, assert_problem, spawn_app, spawn_app_with, start};

#[tokio::test]
async fn ready_with_the_broker() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    let body: Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(body["checks"]["kafka"]["status"], "up", "{body}");
    let spec = app.get("/openapi.json").await;
    assert_eq!(spec.status(), StatusCode::OK);
}

#[tokio::test]
async fn without_a_broker_the_app_is_not_ready_and_publishing_is_503() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let names = Names::on(&format!("127.0.0.1:{port}"));
    let app = start(names, |s| {
        s.kafka.message_timeout = Duration::from_millis(1500);
        s.kafka.request_timeout = Duration::from_millis(500);
    })
    .await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(
        app.get("/readyz").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let started = Instant::now();
    let response = app.publish("lost").await;
    let waited = started.elapsed();
    assert_problem(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "broker-unavailable",
    )
    .await;
    assert!(
        waited >= Duration::from_millis(1000) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    assert_problem(
        app.get("/api/v1/consumer/lag").await,
        StatusCode::SERVICE_UNAVAILABLE,
        "broker-unavailable",
    )
    .await;
}

#[tokio::test]
async fn roles_can_be_switched_off() {
    let worker_only = spawn_app_with(|s| s.roles.api = false).await;
    assert_problem(
        worker_only.publish("x").await,
        StatusCode::NOT_FOUND,
        "role-disabled",
    )
    .await;
    assert_eq!(worker_only.stats().await["running"], true);

    let api_only = spawn_app_with(|s| s.roles.worker = false).await;
    assert_eq!(api_only.publish("y").await.status(), StatusCode::ACCEPTED);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let stats = api_only.stats().await;
    assert_eq!(stats["running"], false);
    assert_eq!(stats["processed"], 0);
    let lag: Value = api_only
        .get("/api/v1/consumer/lag")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(lag["total"], 1, "{lag}");
}
