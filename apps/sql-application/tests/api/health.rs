//! Probes: liveness without dependencies, readiness that names PostgreSQL.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn liveness_and_readiness_answer_when_postgresql_is_up() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["postgresql"]["status"], "up");
    assert_eq!(body["checks"]["postgresql"]["required"], true);
}

#[tokio::test]
async fn an_unknown_route_is_a_problem_not_plain_text() {
    let app = spawn_app().await;
    assert_problem(
        app.get("/api/v1/nothing").await,
        StatusCode::NOT_FOUND,
        "about:blank",
    )
    .await;
}

#[tokio::test]
async fn the_openapi_document_and_swagger_ui_are_served() {
    let app = spawn_app().await;
    let spec: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert!(spec["paths"]["/api/v1/orders/{id}"].is_object());
    assert_eq!(app.get("/docs/").await.status(), StatusCode::OK);
}
