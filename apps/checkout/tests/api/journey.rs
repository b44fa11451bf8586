//! The happy path end to end: the order row in sql-application (PostgreSQL), its
//! stock taken, the units reserved in inventory, the `order_placed` event on Kafka
//! and consumed by kafka-streaming's worker, the receipt with the catalog's names.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use test_support::kafka::{json_value, read_topic};

use crate::helpers::shop;

#[tokio::test]
async fn a_checkout_crosses_all_five_apps() {
    let shop = shop().await;
    let seeded = shop.seed(&[("A", 10, 2), ("B", 5, 1)]).await;

    let response = shop.checkout(&seeded, "happy-1").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.headers().get("idempotent-replayed").is_none());
    let receipt: Value = response.json().await.unwrap();

    // sql-application: one order, its lines priced, its stock taken.
    let orders = shop.orders_of(seeded.customer).await;
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(receipt["order_id"], orders[0]["id"]);
    assert_eq!(receipt["total_cents"], 750);
    assert_eq!(shop.sql_stock(seeded.products[0]).await, 8);
    assert_eq!(shop.sql_stock(seeded.products[1]).await, 4);
    // grpc-microservice: the units are held.
    assert_eq!(shop.reserved(&seeded.skus[0]), 2);
    assert_eq!(shop.reserved(&seeded.skus[1]), 1);
    // http-rest-api: the receipt names the products as the catalog does.
    let lines = receipt["lines"].as_array().unwrap();
    assert_eq!(lines[0]["name"], "Mug A");
    assert_eq!(lines[1]["category"], "kitchen");
    assert_eq!(lines[0]["unit_price_cents"], 250);
    assert!(!lines[1]["reservation_id"].as_str().unwrap().is_empty());
    // kafka-streaming: the event is on the topic and its worker consumed it.
    let order_id = receipt["order_id"].as_i64().unwrap();
    assert_eq!(receipt["event_id"], format!("order-{order_id}"));
    let (bootstrap, topic) = (test_support::kafka::broker(), shop.topic.clone());
    let records = tokio::task::spawn_blocking(move || {
        read_topic(&bootstrap, &topic, 1, Duration::from_secs(20))
    })
    .await
    .unwrap();
    assert_eq!(records.len(), 1);
    let event = json_value(&records[0]).expect("the record is JSON");
    assert_eq!(event["type"], "order_placed");
    assert_eq!(event["payload"]["order_id"], order_id);
    shop.wait_processed(1).await;
}

#[tokio::test]
async fn the_inventory_connection_is_replaced_once_old() {
    let shop = crate::helpers::shop_with(|settings| {
        settings.hops.inventory.max_connection_age = Duration::ZERO;
    })
    .await;
    let seeded = shop.seed(&[("A", 10, 1)]).await;
    for key in ["recycle-1", "recycle-2"] {
        assert_eq!(
            shop.checkout(&seeded, key).await.status(),
            StatusCode::CREATED
        );
    }
    assert!(
        shop.proxies.inventory.opened() >= 2,
        "each checkout on a fresh connection: {} opened",
        shop.proxies.inventory.opened()
    );
}
