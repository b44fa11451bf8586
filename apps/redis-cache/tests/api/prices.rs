//! Price changes: the origin changes, the entry is invalidated, and every SSE
//! listener gets the change through Redis pub/sub.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};

/// Opens the SSE stream and waits until the app counts the listener.
pub async fn listen(app: &TestApp) -> reqwest::Response {
    let response = app.get("/api/v1/prices/stream").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    for _ in 0..100 {
        if app.stats().await["stream_listeners"].as_u64().unwrap() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    response
}

/// The next `data:` event's JSON.
pub async fn next_event(stream: &mut reqwest::Response) -> Value {
    let mut text = String::new();
    loop {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.chunk())
            .await
            .expect("an event within 5 s")
            .unwrap()
            .expect("the stream stays open");
        text.push_str(&String::from_utf8_lossy(&chunk));
        if let Some(line) = text.lines().find(|l| l.starts_with("data:")) {
            return serde_json::from_str(line.trim_start_matches("data:").trim()).unwrap();
        }
    }
}

/// PUT a new price.
pub async fn set_price(app: &TestApp, id: i64, price: i64) -> reqwest::Response {
    app.client
        .put(app.url(&format!("/api/v1/products/{id}/price")))
        .json(&json!({"price_cents": price}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_price_change_invalidates_and_reaches_every_listener() {
    let app = spawn_app().await;
    app.read(4).await;
    let mut first = listen(&app).await;
    let mut second = listen(&app).await;
    let response = set_price(&app, 4, 1234).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("x-cache-degraded").is_none());
    let product: Value = response.json().await.unwrap();
    assert_eq!(product["price_cents"], 1234);
    for stream in [&mut first, &mut second] {
        let event = next_event(stream).await;
        assert_eq!(event["product_id"], 4);
        assert_eq!(event["price_cents"], 1234);
    }
    let response = app.get("/api/v1/products/4").await;
    assert_eq!(
        crate::helpers::cache_header(&response),
        "miss",
        "invalidated"
    );
    let product: Value = response.json().await.unwrap();
    assert_eq!(product["price_cents"], 1234);
    assert_eq!(app.stats().await["price_messages"], 1);
}

#[tokio::test]
async fn bad_price_changes_are_problems() {
    let app = spawn_app().await;
    assert_problem(
        set_price(&app, 4, -1).await,
        StatusCode::BAD_REQUEST,
        "invalid-price",
    )
    .await;
    assert_problem(
        set_price(&app, 999_999, 1).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    assert_problem(
        set_price(&app, 0, 1).await,
        StatusCode::BAD_REQUEST,
        "invalid-id",
    )
    .await;
}

#[tokio::test]
async fn a_windowed_stream_ends_by_itself() {
    let app = spawn_app().await;
    let started = std::time::Instant::now();
    let response = app.get("/api/v1/prices/stream?max_duration_ms=300").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.text().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(!body.contains("data:"), "{body}");

    let reader = tokio::spawn({
        let client = app.client.clone();
        let url = app.url("/api/v1/prices/stream?max_events=1&max_duration_ms=5000");
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    });
    for _ in 0..100 {
        if app.stats().await["stream_listeners"].as_u64().unwrap() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(set_price(&app, 8, 800).await.status(), StatusCode::OK);
    let body = tokio::time::timeout(Duration::from_secs(4), reader)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(body.matches("data:").count(), 1, "{body}");
}

#[tokio::test]
async fn a_window_outside_its_documented_range_is_a_400_naming_it() {
    let app = spawn_app().await;
    for (query, parameter) in [
        ("max_events=0", "max_events"),
        ("max_duration_ms=0", "max_duration_ms"),
        ("max_duration_ms=18446744073709551615", "max_duration_ms"),
    ] {
        let response = app.get(&format!("/api/v1/prices/stream?{query}")).await;
        let body = assert_problem(response, StatusCode::BAD_REQUEST, "bad-parameter").await;
        assert_eq!(body["errors"][0]["field"], parameter, "{query}");
    }
}
