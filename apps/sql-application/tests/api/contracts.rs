//! What the OpenAPI document promises about inputs, held by the handlers: text
//! PostgreSQL cannot store, money beyond its bounds and values of the wrong JSON type
//! are 4xx naming the field, never a 500 or a silent coercion; the sales report
//! answers whatever the database holds.

use reqwest::StatusCode;
use serde_json::{Value, json};
use test_support::http::fields;

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn text_with_a_nul_character_is_a_422_naming_the_field_on_every_write() {
    let app = spawn_app().await;
    let product = json!({"sku": "A", "name": "Mu\u{0}g", "price_cents": 1, "stock": 1});
    let body = assert_problem(
        app.post("/api/v1/products", &product).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    assert_eq!(fields(&body), ["name"]);
    let customer = json!({"email": "a\u{0}@example.com", "name": "Ada\u{0}"});
    let body = assert_problem(
        app.post("/api/v1/customers", &customer).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    assert_eq!(fields(&body), ["email", "name"]);
    let mug = app.product("MUG", 100, 1).await;
    let update = json!({"sku": "MUG", "name": "\u{0}", "price_cents": 1, "stock": 1});
    let body = assert_problem(
        app.put(&format!("/api/v1/products/{mug}"), &update).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    assert_eq!(fields(&body), ["name"]);
    assert_eq!(app.count("customers").await, 0);
}

#[tokio::test]
async fn values_of_the_wrong_json_type_are_refused_not_coerced() {
    let app = spawn_app().await;
    let product = json!({"sku": false, "name": 7, "price_cents": "100", "stock": 1.5});
    let body = assert_problem(
        app.post("/api/v1/products", &product).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    assert_eq!(fields(&body), ["name", "price_cents", "sku", "stock"]);
    assert_eq!(
        body["errors"][0]["message"],
        "must be a string, not a boolean"
    );
    let body = assert_problem(
        app.post("/api/v1/customers", &json!({"email": ["x"], "name": null}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    assert_eq!(fields(&body), ["email", "name"]);
    assert_eq!(app.count("products").await, 0);
}

#[tokio::test]
async fn prices_and_quantities_beyond_their_bounds_are_422_and_nothing_overflows() {
    let app = spawn_app().await;
    let huge = json!({"sku": "GOLD", "name": "Gold", "price_cents": 1_i64 << 62, "stock": 5});
    let body = assert_problem(
        app.post("/api/v1/products", &huge).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    assert_eq!(fields(&body), ["price_cents"]);
    // The dearest product the API admits, in the largest order it admits: exact.
    let dear = app.product("DEAR", 1_000_000_000, 100_000).await;
    let customer = app.customer("rich@example.com").await;
    let response = app.order(customer, &[(dear, 1000)], None).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["total_cents"], 1_000_000_000_000_i64);
    let body = assert_problem(
        app.order(customer, &[(dear, 1001)], None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    assert_eq!(fields(&body), ["items[0].quantity"]);
}

#[tokio::test]
async fn lines_naming_one_product_are_one_line_with_their_quantities_added() {
    let app = spawn_app().await;
    let mug = app.product("MUG", 250, 10).await;
    let customer = app.customer("twice@example.com").await;
    let response = app.order(customer, &[(mug, 2), (mug, 3)], None).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["items"].as_array().unwrap().len(), 1);
    assert_eq!(order["total_cents"], 1250);
    assert_eq!(app.stock(mug).await, 5);
}

#[tokio::test]
async fn a_price_the_database_holds_from_before_the_bounds_cannot_break_orders_or_the_report() {
    let app = spawn_app().await;
    let customer = app.customer("old@example.com").await;
    let gold = app.product("GOLD", 1, 10).await;
    // As an older version could store it: 2^62 cents.
    sqlx::query("UPDATE products SET price_cents = $1 WHERE id = $2")
        .bind(1_i64 << 62)
        .bind(gold)
        .execute(&app.db)
        .await
        .unwrap();
    assert_problem(
        app.order(customer, &[(gold, 4)], None).await,
        StatusCode::CONFLICT,
        "total-too-large",
    )
    .await;
    assert_eq!(app.stock(gold).await, 10, "nothing was taken");
    // Two orders whose revenue together exceeds bigint, as old data may hold.
    for _ in 0..2 {
        let response = app.order(customer, &[(gold, 1)], None).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let response = app.get("/api/v1/reports/sales?days=1").await;
    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["rows"][0]["product_id"], gold);
    assert_eq!(report["rows"][0]["units"], 2);
    assert_eq!(report["rows"][0]["revenue_cents"], i64::MAX);
}
