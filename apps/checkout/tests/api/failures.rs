//! What goes wrong on the way: out of stock (409, no order, the lines before it
//! released), an order refused (409, compensation), and each dependency cut on its
//! proxy (503 naming it, the reservations released, no order or a retry-safe one).

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Seeded, Shop, assert_problem, shop};

#[tokio::test]
async fn out_of_stock_is_a_409_naming_the_sku_with_no_order_and_nothing_held() {
    let shop = shop().await;
    let seeded = shop.seed(&[("A", 10, 2), ("B", 1, 3)]).await;
    let response = shop.checkout(&seeded, "oos-1").await;
    let problem = assert_problem(response, StatusCode::CONFLICT, "out-of-stock").await;
    assert_eq!(problem["sku"], seeded.skus[1]);
    assert_eq!(
        problem["released_reservations"], 1,
        "line A was held, then given back"
    );
    assert_eq!(shop.reserved(&seeded.skus[0]), 0);
    assert!(shop.orders_of(seeded.customer).await.is_empty());
    assert_eq!(shop.sql_stock(seeded.products[0]).await, 10);
}

#[tokio::test]
async fn a_sku_inventory_does_not_know_is_a_409_unknown_sku() {
    let shop = shop().await;
    let token = shop
        .session(
            &serde_json::json!({"items": [{"product_id": 1, "sku": "NOWHERE-1", "quantity": 1}]}),
        )
        .await;
    let response = shop.checkout_as(&token, 1, Some("unknown-1")).await;
    let problem = assert_problem(response, StatusCode::CONFLICT, "unknown-sku").await;
    assert_eq!(problem["sku"], "NOWHERE-1");
}

#[tokio::test]
async fn an_order_refused_releases_the_reservations() {
    let shop = shop().await;
    let seeded = shop.seed(&[("A", 10, 2), ("B", 5, 1)]).await;
    // sql-application does not know this customer: it refuses the order.
    let response = shop
        .checkout_as(&seeded.token, seeded.customer + 1000, Some("refused-1"))
        .await;
    let problem = assert_problem(response, StatusCode::CONFLICT, "order-refused").await;
    assert_eq!(problem["dependency"], "sql-application");
    assert_eq!(
        problem["dependency_problem"],
        "urn:obi-examples:problem:unknown-customer"
    );
    assert_eq!(problem["released_reservations"], 2);
    assert_eq!(shop.reserved(&seeded.skus[0]), 0);
    assert_eq!(shop.reserved(&seeded.skus[1]), 0);
    assert_eq!(shop.inventory.state.reservations(), 0);
}

/// Cuts `which` hop, checks out, and returns the 503's problem.
async fn cut_and_check_out(shop: &Shop, seeded: &Seeded, which: &str, key: &str) -> Value {
    let proxies = &shop.proxies;
    let proxy = match which {
        "redis-cache" => &proxies.cart,
        "grpc-microservice" => &proxies.inventory,
        "sql-application" => &proxies.orders,
        "kafka-streaming" => &proxies.events,
        "http-rest-api" => &proxies.catalog,
        "redis" => &proxies.redis,
        other => panic!("no hop {other}"),
    };
    proxy.cut();
    let response = shop.checkout(seeded, key).await;
    let problem = assert_problem(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "dependency-unavailable",
    )
    .await;
    proxy.restore();
    assert_eq!(problem["dependency"], which, "{problem}");
    problem
}

#[tokio::test]
async fn an_outage_before_the_reservations_is_a_503_naming_it_with_nothing_done() {
    let shop = shop().await;
    let seeded = shop.seed(&[("A", 10, 2)]).await;
    for which in ["redis", "redis-cache", "grpc-microservice"] {
        cut_and_check_out(&shop, &seeded, which, &format!("cut-{which}")).await;
        assert_eq!(shop.reserved(&seeded.skus[0]), 0, "{which}");
        assert!(shop.orders_of(seeded.customer).await.is_empty(), "{which}");
    }
}

#[tokio::test]
async fn the_order_service_cut_is_a_503_and_the_reservations_are_released() {
    let shop = shop().await;
    let seeded = shop.seed(&[("A", 10, 2), ("B", 5, 1)]).await;
    let problem = cut_and_check_out(&shop, &seeded, "sql-application", "cut-orders").await;
    assert_eq!(problem["released_reservations"], 2);
    assert_eq!(shop.inventory.state.reservations(), 0);
    assert!(shop.orders_of(seeded.customer).await.is_empty());
    // Back: the same key checks out.
    let response = shop.checkout(&seeded, "cut-orders").await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn an_outage_after_the_order_is_a_503_and_the_retry_places_no_second_order() {
    let shop = shop().await;
    let seeded = shop.seed(&[("A", 10, 2)]).await;
    for which in ["kafka-streaming", "http-rest-api"] {
        let key = format!("cut-{which}");
        let held_before = shop.reserved(&seeded.skus[0]);
        let problem = cut_and_check_out(&shop, &seeded, which, &key).await;
        assert_eq!(problem["released_reservations"], 1, "{which}");
        assert_eq!(shop.reserved(&seeded.skus[0]), held_before, "{which}");
        // The order was placed under the key; the retry gets that order again.
        let placed = shop.orders_of(seeded.customer).await;
        let response = shop.checkout(&seeded, &key).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{which}");
        let receipt: Value = response.json().await.unwrap();
        assert_eq!(
            receipt["order_id"], placed[0]["id"],
            "{which}: newest first"
        );
        assert_eq!(shop.reserved(&seeded.skus[0]), held_before + 2, "{which}");
    }
    // One order per key, two keys.
    assert_eq!(shop.orders_of(seeded.customer).await.len(), 2);
}
