//! `Idempotency-Key`: a retried order is placed once and answered the same way.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn a_retry_with_the_same_key_replays_the_first_answer() {
    let app = spawn_app().await;
    let mug = app.product("MUG", 1000, 10).await;
    let customer = app.customer("retry@example.com").await;
    let first = app.order(customer, &[(mug, 2)], Some("order-42")).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();

    let again = app.order(customer, &[(mug, 2)], Some("order-42")).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first);
    assert_eq!(app.count("orders").await, 1);
    assert_eq!(app.stock(mug).await, 8, "stock is taken once");
}

#[tokio::test]
async fn a_key_reused_with_another_request_is_422() {
    let app = spawn_app().await;
    let mug = app.product("MUG", 1000, 10).await;
    let customer = app.customer("reuse@example.com").await;
    app.order(customer, &[(mug, 1)], Some("k1")).await;
    let response = app.order(customer, &[(mug, 3)], Some("k1")).await;
    assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency-key-reused",
    )
    .await;
    assert_eq!(app.stock(mug).await, 9);
}

#[tokio::test]
async fn concurrent_requests_with_one_key_place_one_order() {
    let app = spawn_app().await;
    let mug = app.product("MUG", 1000, 100).await;
    let customer = app.customer("race@example.com").await;
    let lines = [(mug, 1)];
    let attempts = (0..6).map(|_| app.order(customer, &lines, Some("same")));
    let responses = futures_util::future::join_all(attempts).await;
    let mut ids = Vec::new();
    for response in responses {
        assert_eq!(response.status(), StatusCode::CREATED);
        ids.push(
            response.json::<Value>().await.unwrap()["id"]
                .as_i64()
                .unwrap(),
        );
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    assert_eq!(app.stock(mug).await, 99);
}

#[tokio::test]
async fn a_refused_order_does_not_burn_its_key() {
    let app = spawn_app().await;
    let mug = app.product("MUG", 1000, 1).await;
    let customer = app.customer("later@example.com").await;
    let response = app.order(customer, &[(mug, 2)], Some("k2")).await;
    assert_problem(response, StatusCode::CONFLICT, "insufficient-stock").await;
    app.put(
        &format!("/api/v1/products/{mug}"),
        &serde_json::json!({"sku": "MUG", "name": "Mug", "price_cents": 1000, "stock": 5}),
    )
    .await;
    let retry = app.order(customer, &[(mug, 2)], Some("k2")).await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert!(retry.headers().get("idempotent-replayed").is_none());
}

#[tokio::test]
async fn a_malformed_key_is_400() {
    let app = spawn_app().await;
    let mug = app.product("MUG", 1000, 1).await;
    let customer = app.customer("bad@example.com").await;
    let response = app
        .order(customer, &[(mug, 1)], Some(&"k".repeat(201)))
        .await;
    let body = assert_problem(response, StatusCode::BAD_REQUEST, "bad-parameter").await;
    assert_eq!(test_support::http::fields(&body), ["Idempotency-Key"]);
}
