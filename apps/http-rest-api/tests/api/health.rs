//! Probes.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn liveness_and_readiness_answer_ok() {
    let app = spawn_app().await;
    let live = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn readiness_fails_once_draining_starts() {
    let app = spawn_app().await;
    // A kept-alive connection still reaches the draining server.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()
        .unwrap();
    client.get(app.url("/readyz")).send().await.unwrap();
    app.shutdown.trigger();
    if let Ok(response) = client.get(app.url("/readyz")).send().await {
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
