//! One checkout per `Idempotency-Key` of a session: a replay gets the first receipt
//! (nothing is reserved or ordered again), the key of another customer is a 422, a
//! key whose checkout is still running is a 409, another session's key is not
//! replayed, and the record lives in checkout's Redis.

use reqwest::StatusCode;
use serde_json::Value;

use checkout::journey::scoped_key;

use crate::helpers::{assert_problem, shop};

#[tokio::test]
async fn a_replay_gets_the_first_receipt_and_nothing_happens_twice() {
    let shop = shop().await;
    let seeded = shop.seed(&[("A", 10, 2)]).await;
    let first = shop.checkout(&seeded, "same-key").await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();

    let again = shop.checkout(&seeded, "same-key").await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first);
    assert_eq!(shop.orders_of(seeded.customer).await.len(), 1);
    assert_eq!(shop.reserved(&seeded.skus[0]), 2);
    assert_eq!(shop.sql_stock(seeded.products[0]).await, 8);

    let mut redis = test_support::redis::connect().await;
    let stored: String = redis::cmd("GET")
        .arg(format!(
            "{}idempotency:{}",
            shop.prefix,
            scoped_key(&seeded.token, "same-key")
        ))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(stored.contains("\"state\":\"done\""), "{stored}");
}

#[tokio::test]
async fn the_key_of_another_customer_is_a_422() {
    let shop = shop().await;
    let seeded = shop.seed(&[("A", 10, 1)]).await;
    assert_eq!(
        shop.checkout(&seeded, "mine").await.status(),
        StatusCode::CREATED
    );
    let response = shop
        .checkout_as(&seeded.token, seeded.customer + 1, Some("mine"))
        .await;
    assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency-key-reused",
    )
    .await;
}

/// A key is its session's: replayed with an unknown session it is a 401, not the
/// receipt (the contract gate's ST401 found that the replay skipped the session), and
/// another shopper who picks the same key gets a checkout of their own.
#[tokio::test]
async fn a_key_is_its_sessions_own() {
    let shop = shop().await;
    let seeded = shop.seed(&[("A", 10, 1)]).await;
    assert_eq!(
        shop.checkout(&seeded, "shared").await.status(),
        StatusCode::CREATED
    );
    let stranger = shop
        .checkout_as("no-such-session", seeded.customer, Some("shared"))
        .await;
    assert_problem(stranger, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let other = shop.seed(&[("B", 10, 1)]).await;
    let theirs = shop
        .checkout_as(&other.token, seeded.customer, Some("shared"))
        .await;
    assert_eq!(theirs.status(), StatusCode::CREATED);
    assert!(theirs.headers().get("idempotent-replayed").is_none());
    assert_eq!(shop.orders_of(seeded.customer).await.len(), 2);
}

#[tokio::test]
async fn a_key_whose_checkout_is_running_is_a_409() {
    let shop = shop().await;
    let seeded = shop.seed(&[("A", 10, 1)]).await;
    let mut redis = test_support::redis::connect().await;
    let running = format!(
        "{{\"state\":\"running\",\"customer_id\":{}}}",
        seeded.customer
    );
    let _: () = redis::cmd("SET")
        .arg(format!(
            "{}idempotency:{}",
            shop.prefix,
            scoped_key(&seeded.token, "busy")
        ))
        .arg(running)
        .arg("EX")
        .arg(60)
        .query_async(&mut redis)
        .await
        .unwrap();
    let response = shop.checkout(&seeded, "busy").await;
    assert_problem(response, StatusCode::CONFLICT, "checkout-in-progress").await;
    assert_eq!(shop.reserved(&seeded.skus[0]), 0);
}

#[tokio::test]
async fn a_failed_checkout_frees_its_key() {
    let shop = shop().await;
    let seeded = shop.seed(&[("A", 5, 2)]).await;
    shop.inventory.state.put(&seeded.skus[0], 1);
    let response = shop.checkout(&seeded, "retry-me").await;
    assert_problem(response, StatusCode::CONFLICT, "out-of-stock").await;
    shop.inventory.state.put(&seeded.skus[0], 5);
    let response = shop.checkout(&seeded, "retry-me").await;
    assert_eq!(response.status(), StatusCode::CREATED);
}
