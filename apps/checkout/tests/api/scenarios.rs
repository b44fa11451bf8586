//! `slow_hop` and `broken_hop`: checkout asks the guilty hop, through that app's own
//! fault headers, to be slow or to fail; the journey shows it where a real slow or
//! broken downstream would.

use std::time::{Duration, Instant};

use reqwest::{Response, StatusCode};
use serde_json::json;
use test_support::app::ADMIN_TOKEN;

use crate::helpers::{Seeded, Shop, assert_problem, shop_with};

/// A shop whose checkout may play its scenarios on `hop` (with the apps' admin token).
async fn shop_guilty(hop: &str, tune: impl FnOnce(&mut checkout::settings::Settings)) -> Shop {
    let hop = serde_json::from_value(json!(hop)).unwrap();
    shop_with(|settings| {
        settings.scenarios.hop = hop;
        settings.scenarios.hop_token = ADMIN_TOKEN.to_owned().into();
        tune(settings);
    })
    .await
}

/// A checkout the scenario `name` affects.
async fn checkout_under(shop: &Shop, seeded: &Seeded, name: &str, key: &str) -> Response {
    shop.checkout
        .client
        .post(shop.checkout.url("/api/v1/checkout"))
        .bearer_auth(&seeded.token)
        .header("Idempotency-Key", key)
        .header("x-fault-scenario", name)
        .json(&json!({ "customer_id": seeded.customer }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn slow_hop_delays_the_guilty_hop_itself() {
    let shop = shop_guilty("orders", |settings| {
        settings.scenarios.slow_hop_delay = Duration::from_millis(700);
    })
    .await;
    let seeded = shop.seed(&[("A", 10, 1)]).await;
    let started = Instant::now();
    let response = checkout_under(&shop, &seeded, "slow_hop", "slow-1").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(started.elapsed() >= Duration::from_millis(700));
    assert_eq!(shop.orders_of(seeded.customer).await.len(), 1);
}

#[tokio::test]
async fn slow_hop_past_the_hops_timeout_is_a_503_naming_it() {
    // The delay is spent in sql-application, not in checkout: the orders hop's own
    // timeout cuts it, and the reservation is given back.
    let shop = shop_guilty("orders", |settings| {
        settings.scenarios.slow_hop_delay = Duration::from_secs(2);
        settings.hops.orders.timeout = Duration::from_millis(300);
    })
    .await;
    let seeded = shop.seed(&[("A", 10, 1)]).await;
    let response = checkout_under(&shop, &seeded, "slow_hop", "slow-2").await;
    let problem = assert_problem(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "dependency-unavailable",
    )
    .await;
    assert_eq!(problem["dependency"], "sql-application", "{problem}");
    assert_eq!(problem["released_reservations"], 1, "{problem}");
}

#[tokio::test]
async fn broken_hop_fails_the_order_and_releases_every_reservation() {
    let shop = shop_guilty("orders", |_| {}).await;
    let seeded = shop.seed(&[("A", 10, 2), ("B", 5, 1)]).await;
    let response = checkout_under(&shop, &seeded, "broken_hop", "broken-1").await;
    let problem = assert_problem(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "dependency-unavailable",
    )
    .await;
    assert_eq!(problem["dependency"], "sql-application", "{problem}");
    assert_eq!(problem["released_reservations"], 2, "{problem}");
    assert_eq!(shop.inventory.state.reservations(), 0);
    assert!(shop.orders_of(seeded.customer).await.is_empty());
    // Without the scenario the same key checks out.
    let response = shop.checkout(&seeded, "broken-1").await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn broken_hop_names_whichever_hop_is_guilty() {
    let shop = shop_guilty("cart", |_| {}).await;
    let seeded = shop.seed(&[("A", 10, 1)]).await;
    let response = checkout_under(&shop, &seeded, "broken_hop", "broken-2").await;
    let problem = assert_problem(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "dependency-unavailable",
    )
    .await;
    assert_eq!(problem["dependency"], "redis-cache", "{problem}");
    assert_eq!(problem["released_reservations"], 0, "{problem}");
}
