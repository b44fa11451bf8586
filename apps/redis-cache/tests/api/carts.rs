//! A session's cart: put, read back, replaced, gone with the session; the error
//! paths (no session, invalid lines, Redis down).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app, spawn_app_with};

async fn login(app: &TestApp) -> String {
    let session: Value = app
        .post(
            "/api/v1/sessions",
            &json!({"username": "shopper", "password": "obi-examples"}),
        )
        .await
        .json()
        .await
        .unwrap();
    session["token"].as_str().unwrap().to_owned()
}

async fn put_cart(app: &TestApp, token: &str, cart: &Value) -> reqwest::Response {
    app.client
        .put(app.url("/api/v1/sessions/me/cart"))
        .bearer_auth(token)
        .json(cart)
        .send()
        .await
        .unwrap()
}

async fn get_cart(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .get(app.url("/api/v1/sessions/me/cart"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_cart_is_empty_then_holds_what_was_put_and_goes_with_the_session() {
    let app = spawn_app().await;
    let token = login(&app).await;
    let empty: Value = get_cart(&app, &token).await.json().await.unwrap();
    assert_eq!(empty, json!({"items": []}));

    let cart = json!({"items": [
        {"product_id": 7, "sku": "SKU-00007", "quantity": 2},
        {"product_id": 9, "sku": "SKU-00009", "quantity": 1},
    ]});
    let response = put_cart(&app, &token, &cart).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), cart);
    let read = get_cart(&app, &token).await;
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(read.json::<Value>().await.unwrap(), cart);

    let replaced = json!({"items": [{"product_id": 9, "sku": "SKU-00009", "quantity": 3}]});
    put_cart(&app, &token, &replaced).await;
    assert_eq!(
        get_cart(&app, &token).await.json::<Value>().await.unwrap(),
        replaced
    );

    let logout = app
        .client
        .delete(app.url("/api/v1/sessions/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.pttl(&format!("cart:{token}")).await,
        -2,
        "the cart is gone"
    );
    assert_problem(
        get_cart(&app, &token).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn a_cart_lives_with_its_session_and_use_keeps_it() {
    let app = spawn_app_with(|s| s.sessions.ttl = Duration::from_secs(2)).await;
    let token = login(&app).await;
    let cart = json!({"items": [{"product_id": 1, "sku": "A", "quantity": 1}]});
    put_cart(&app, &token, &cart).await;
    let ttl = app.pttl(&format!("cart:{token}")).await;
    assert!((1..=2000).contains(&ttl), "the session's lifetime: {ttl}");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(get_cart(&app, &token).await.status(), StatusCode::OK);
    assert!(app.pttl(&format!("cart:{token}")).await > 1000, "refreshed");
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert_problem(
        get_cart(&app, &token).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    assert_eq!(app.pttl(&format!("cart:{token}")).await, -2);
}

#[tokio::test]
async fn without_a_session_there_is_no_cart() {
    let app = spawn_app().await;
    let cart = json!({"items": []});
    assert_problem(
        put_cart(&app, "unknown", &cart).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    assert_problem(
        get_cart(&app, "unknown").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let anonymous = app.get("/api/v1/sessions/me/cart").await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.pttl("cart:unknown").await, -2, "nothing stored");
}

#[tokio::test]
async fn invalid_lines_are_named_and_nothing_is_stored() {
    let app = spawn_app().await;
    let token = login(&app).await;
    let bad = json!({"items": [
        {"product_id": 0, "sku": "ok", "quantity": 0},
        {"product_id": 3, "sku": "OK", "quantity": 1},
        {"product_id": 3, "sku": "OK", "quantity": 1001},
    ]});
    let body = assert_problem(
        put_cart(&app, &token, &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    assert_eq!(
        test_support::http::fields(&body),
        [
            "items[0].product_id",
            "items[0].quantity",
            "items[0].sku",
            "items[2].quantity"
        ]
    );
    assert_eq!(app.pttl(&format!("cart:{token}")).await, -2);
}

/// The body's rules are the document's, with no coercion: a number is no SKU.
#[tokio::test]
async fn wrong_json_types_are_named_not_coerced() {
    let app = spawn_app().await;
    let token = login(&app).await;
    let bad = json!({"items": [{"product_id": "7", "sku": 0, "quantity": 1.5}]});
    let body = assert_problem(
        put_cart(&app, &token, &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    assert_eq!(
        test_support::http::fields(&body),
        ["items[0].product_id", "items[0].quantity", "items[0].sku"]
    );
    assert_eq!(app.pttl(&format!("cart:{token}")).await, -2);
}

#[tokio::test]
async fn with_redis_gone_the_cart_answers_503_and_comes_back_with_it() {
    let app = spawn_app().await;
    let token = login(&app).await;
    let cart = json!({"items": [{"product_id": 1, "sku": "A", "quantity": 1}]});
    put_cart(&app, &token, &cart).await;
    app.proxy.cut();
    assert_problem(
        get_cart(&app, &token).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "redis-unavailable",
    )
    .await;
    assert_problem(
        put_cart(&app, &token, &cart).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "redis-unavailable",
    )
    .await;
    app.proxy.restore();
    let started = std::time::Instant::now();
    loop {
        let response = get_cart(&app, &token).await;
        if response.status() == StatusCode::OK {
            assert_eq!(response.json::<Value>().await.unwrap(), cart);
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "no recovery");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
