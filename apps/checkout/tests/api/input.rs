//! Bad requests are problem+json 4xx naming what was wrong, and bad configuration
//! stops start-up naming the key.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_problem, fields, shop};

#[tokio::test]
async fn bad_requests_are_named_4xx() {
    let shop = shop().await;
    let seeded = shop.seed(&[("A", 10, 1)]).await;

    let no_key = shop.checkout_as(&seeded.token, seeded.customer, None).await;
    let problem = assert_problem(no_key, StatusCode::BAD_REQUEST, "bad-parameter").await;
    assert_eq!(fields(&problem), ["Idempotency-Key"]);
    assert!(problem["detail"].as_str().unwrap().contains("required"));
    let bad_key = shop
        .checkout_as(&seeded.token, seeded.customer, Some("has space"))
        .await;
    let problem = assert_problem(bad_key, StatusCode::BAD_REQUEST, "bad-parameter").await;
    assert_eq!(fields(&problem), ["Idempotency-Key"]);

    let bad_customer = shop.checkout_as(&seeded.token, 0, Some("k1")).await;
    let problem =
        assert_problem(bad_customer, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
    assert_eq!(fields(&problem), ["customer_id"]);

    let unknown_session = shop
        .checkout_as("no-such-session", seeded.customer, Some("k2"))
        .await;
    assert_problem(unknown_session, StatusCode::UNAUTHORIZED, "unauthorized").await;

    let no_token = shop
        .checkout
        .client
        .post(shop.checkout.url("/api/v1/checkout"))
        .header("Idempotency-Key", "k3")
        .json(&json!({"customer_id": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);

    let not_json = shop
        .checkout
        .client
        .post(shop.checkout.url("/api/v1/checkout"))
        .bearer_auth(&seeded.token)
        .header("Idempotency-Key", "k4")
        .body("customer_id=1")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let too_large = shop
        .checkout
        .client
        .post(shop.checkout.url("/api/v1/checkout"))
        .bearer_auth(&seeded.token)
        .header("Idempotency-Key", "k5")
        .json(&json!({"customer_id": seeded.customer, "padding": "x".repeat(8192)}))
        .send()
        .await
        .unwrap();
    assert_problem(too_large, StatusCode::PAYLOAD_TOO_LARGE, "body-too-large").await;
    assert!(shop.orders_of(seeded.customer).await.is_empty());
}

#[tokio::test]
async fn an_empty_cart_is_a_422() {
    let shop = shop().await;
    let token = shop.session(&json!({"items": []})).await;
    let response = shop.checkout_as(&token, 1, Some("empty")).await;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "empty-cart").await;
}

#[tokio::test]
async fn a_claim_shorter_than_the_hops_timeouts_stops_start_up_naming_the_key() {
    let mut settings: checkout::settings::Settings =
        test_support::app::settings(checkout::settings::DEFAULTS, &[]);
    settings.idempotency.in_progress_ttl = Duration::from_secs(1);
    let Err(err) = checkout::startup::build(settings, service_kit::shutdown::Shutdown::new()).await
    else {
        panic!("the app must refuse to start");
    };
    assert!(
        err.to_string().contains("idempotency.in_progress_ttl"),
        "{err}"
    );
}
