//! Graceful shutdown: requests in flight finish with 202 (really written), the worker
//! stops between messages and commits what it processed.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{event, ids, spawn_app};

#[tokio::test]
async fn in_flight_publishes_complete_and_the_worker_commits() {
    let mut app = spawn_app().await;
    assert_eq!(app.publish("before").await.status(), StatusCode::ACCEPTED);
    app.wait_stat("processed", 1, Duration::from_secs(30)).await;
    let slow = (0..3).map(|n| {
        app.client
            .post(app.url("/api/v1/events"))
            .header("x-fault-delay", "500ms")
            .json(&event(&format!("drain-{n}")))
            .send()
    });
    let in_flight = tokio::spawn(futures_util::future::join_all(slow));
    tokio::time::sleep(Duration::from_millis(150)).await;
    app.shutdown.trigger();
    for response in in_flight.await.unwrap() {
        let response = response.unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let _: Value = response.json().await.unwrap();
    }
    app.stop().await;
    assert!(
        app.client.get(app.url("/healthz")).send().await.is_err(),
        "the listener is closed"
    );
    let written = ids(&app.input(4));
    assert_eq!(written.len(), 4, "{written:?}");
}
