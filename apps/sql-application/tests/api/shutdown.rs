//! Graceful shutdown: requests in flight when SIGTERM arrives finish (their orders
//! are committed), then the listener closes.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn in_flight_orders_complete_during_the_drain() {
    let mut app = spawn_app().await;
    let mug = app.product("MUG", 100, 10).await;
    let customer = app.customer("drain@example.com").await;
    let slow = (0..3).map(|n| {
        app.client
            .post(app.url("/api/v1/orders"))
            .header("x-fault-delay", "500ms")
            .header("Idempotency-Key", format!("drain-{n}"))
            .json(&json!({"customer_id": customer, "items": [{"product_id": mug, "quantity": 1}]}))
            .send()
    });
    let in_flight = tokio::spawn(futures_util::future::join_all(slow));
    tokio::time::sleep(Duration::from_millis(150)).await;
    app.shutdown.trigger();

    for response in in_flight.await.unwrap() {
        assert_eq!(response.unwrap().status(), StatusCode::CREATED);
    }
    app.stop().await;
    assert!(
        app.client.get(app.url("/healthz")).send().await.is_err(),
        "the listener is closed"
    );
    assert_eq!(app.count("orders").await, 3);
    assert_eq!(app.stock(mug).await, 7);
}
