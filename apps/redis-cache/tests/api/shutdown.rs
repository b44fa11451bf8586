//! Graceful shutdown: requests in flight when SIGTERM arrives finish, then the
//! listener closes.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::spawn_app;

#[tokio::test]
async fn in_flight_reads_complete_during_the_drain() {
    let mut app = spawn_app().await;
    let slow = (1..=3).map(|id| {
        app.client
            .get(app.url(&format!("/api/v1/products/{id}")))
            .header("x-fault-delay", "500ms")
            .send()
    });
    let in_flight = tokio::spawn(futures_util::future::join_all(slow));
    tokio::time::sleep(Duration::from_millis(150)).await;
    app.shutdown.trigger();
    for response in in_flight.await.unwrap() {
        assert_eq!(response.unwrap().status(), StatusCode::OK);
    }
    app.stop().await;
    assert!(
        app.client.get(app.url("/healthz")).send().await.is_err(),
        "the listener is closed"
    );
}
