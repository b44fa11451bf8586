//! Placing orders (one transaction, all or nothing), reading and listing them.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, assert_problem, spawn_app};

async fn shop(app: &TestApp) -> (i64, i64, i64) {
    let mug = app.product("MUG", 1200, 10).await;
    let tea = app.product("TEA", 450, 3).await;
    let customer = app.customer("buyer@example.com").await;
    (customer, mug, tea)
}

#[tokio::test]
async fn an_order_takes_stock_and_reads_back_with_its_items() {
    let app = spawn_app().await;
    let (customer, mug, tea) = shop(&app).await;
    let response = app.order(customer, &[(tea, 2), (mug, 1)], None).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.headers().get("idempotent-replayed").is_none());
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["total_cents"], 1200 + 2 * 450);
    assert_eq!(order["status"], "placed");
    assert_eq!(order["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        order["items"][0]["product_id"], mug,
        "items come by product id"
    );

    let read: Value = app.get(&location).await.json().await.unwrap();
    assert_eq!(read, order);
    assert_eq!(app.stock(mug).await, 9);
    assert_eq!(app.stock(tea).await, 1);
}

#[tokio::test]
async fn a_missing_order_is_404() {
    let app = spawn_app().await;
    assert_problem(
        app.get("/api/v1/orders/424242").await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
}

#[tokio::test]
async fn insufficient_stock_fails_the_whole_order() {
    let app = spawn_app().await;
    let (customer, mug, tea) = shop(&app).await;
    let response = app.order(customer, &[(mug, 2), (tea, 4)], None).await;
    let body = assert_problem(response, StatusCode::CONFLICT, "insufficient-stock").await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("product {tea} has 3 of 4")),
        "{body}"
    );
    assert_eq!(
        app.stock(mug).await,
        10,
        "the line that fitted took nothing"
    );
    assert_eq!(app.count("orders").await, 0);
    assert_eq!(app.count("order_items").await, 0);
}

#[tokio::test]
async fn unknown_products_and_customers_are_conflicts_that_change_nothing() {
    let app = spawn_app().await;
    let (customer, mug, _) = shop(&app).await;
    let response = app.order(customer, &[(mug, 1), (999_999, 1)], None).await;
    assert_problem(response, StatusCode::CONFLICT, "unknown-product").await;
    let response = app.order(888_888, &[(mug, 1)], None).await;
    assert_problem(response, StatusCode::CONFLICT, "unknown-customer").await;
    assert_eq!(app.stock(mug).await, 10);
    assert_eq!(app.count("orders").await, 0);
}

#[tokio::test]
async fn invalid_orders_are_422_naming_the_lines() {
    let app = spawn_app().await;
    let (customer, mug, _) = shop(&app).await;
    let response = app.order(customer, &[(mug, 0), (0, 1)], None).await;
    let body = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
    assert_eq!(
        test_support::http::fields(&body),
        ["items[0].quantity", "items[1].product_id"]
    );
    let response = app.order(customer, &[], None).await;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
}

#[tokio::test]
async fn concurrent_orders_never_oversell() {
    let app = spawn_app().await;
    let (customer, _, tea) = shop(&app).await;
    let lines = [(tea, 1)];
    let attempts = (0..8).map(|_| app.order(customer, &lines, None));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    let placed = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((placed, refused), (3, 5), "{statuses:?}");
    assert_eq!(app.stock(tea).await, 0);
}

#[tokio::test]
async fn orders_list_newest_first_with_items_by_page_and_customer() {
    let app = spawn_app().await;
    let (customer, mug, tea) = shop(&app).await;
    let other = app.customer("other@example.com").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let who = if n % 2 == 0 { customer } else { other };
        let lines: &[(i64, i32)] = if n % 2 == 1 {
            &[(mug, 1), (tea, 1)]
        } else {
            &[(mug, 1)]
        };
        let order: Value = app.order(who, lines, None).await.json().await.unwrap();
        ids.push(order["id"].as_i64().unwrap());
    }
    let first: Value = app
        .get("/api/v1/orders?limit=2")
        .await
        .json()
        .await
        .unwrap();
    let listed: Vec<i64> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, [ids[4], ids[3]]);
    assert_eq!(
        first["items"][1]["items"].as_array().unwrap().len(),
        2,
        "order 3 has mug and tea"
    );
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest: Value = app
        .get(&format!("/api/v1/orders?after={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"].as_array().unwrap().len(), 3);
    assert!(rest["next_cursor"].is_null());

    let mine: Value = app
        .get(&format!("/api/v1/orders?customer_id={customer}"))
        .await
        .json()
        .await
        .unwrap();
    let mine: Vec<i64> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    assert_eq!(mine, [ids[4], ids[2], ids[0]]);
    let body = assert_problem(
        app.get("/api/v1/orders?after=-1").await,
        StatusCode::BAD_REQUEST,
        "bad-parameter",
    )
    .await;
    assert_eq!(test_support::http::fields(&body), ["after"]);
}

#[tokio::test]
async fn the_sales_report_ranks_products_by_revenue() {
    let app = spawn_app().await;
    let (customer, mug, tea) = shop(&app).await;
    app.order(customer, &[(mug, 2), (tea, 3)], None).await;
    let report: Value = app
        .get("/api/v1/reports/sales?days=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["plan"], "index");
    assert_eq!(report["rows"][0]["product_id"], mug);
    assert_eq!(report["rows"][0]["revenue_cents"], 2400);
    assert_eq!(report["rows"][1]["units"], 3);
    let body = assert_problem(
        app.get("/api/v1/reports/sales?days=0").await,
        StatusCode::BAD_REQUEST,
        "bad-parameter",
    )
    .await;
    assert_eq!(test_support::http::fields(&body), ["days"]);
}
