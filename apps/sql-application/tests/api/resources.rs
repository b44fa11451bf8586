//! Products and customers: CRUD, validation, uniqueness, references, paging.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn a_product_is_created_read_updated_and_deleted() {
    let app = spawn_app().await;
    let created = app
        .post(
            "/api/v1/products",
            &json!({"sku": "mug-1", "name": " Mug ", "price_cents": 1299, "stock": 5}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let product: Value = created.json().await.unwrap();
    assert_eq!(product["sku"], "MUG-1");
    assert_eq!(product["name"], "Mug");
    assert_eq!(location, format!("/api/v1/products/{}", product["id"]));

    let read: Value = app.get(&location).await.json().await.unwrap();
    assert_eq!(read, product);

    let updated = app
        .put(
            &location,
            &json!({"sku": "MUG-1", "name": "Big mug", "price_cents": 1499, "stock": 7}),
        )
        .await;
    assert_eq!(updated.status(), StatusCode::OK);
    let updated: Value = updated.json().await.unwrap();
    assert_eq!(updated["price_cents"], 1499);
    assert_eq!(updated["stock"], 7);

    assert_eq!(app.delete(&location).await.status(), StatusCode::NO_CONTENT);
    assert_problem(app.get(&location).await, StatusCode::NOT_FOUND, "not-found").await;
    assert_problem(
        app.delete(&location).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    let body = json!({"sku": "X", "name": "x", "price_cents": 1, "stock": 1});
    assert_problem(
        app.put(&location, &body).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
}

#[tokio::test]
async fn invalid_products_are_422_naming_every_field() {
    let app = spawn_app().await;
    let response = app
        .post(
            "/api/v1/products",
            &json!({"sku": "no spaces", "name": "", "price_cents": -1, "stock": -1}),
        )
        .await;
    let body = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["sku", "name", "price_cents", "stock"]);
}

#[tokio::test]
async fn malformed_bodies_and_ids_are_400_problems() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/products"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let body = assert_problem(response, StatusCode::BAD_REQUEST, "bad-body").await;
    assert!(
        body["detail"].as_str().unwrap().contains("not valid JSON"),
        "{body}"
    );
    // Missing fields are the API's 422 naming each, like any other bad field.
    let body = assert_problem(
        app.post("/api/v1/products", &json!({"sku": "A"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    assert_eq!(
        test_support::http::fields(&body),
        ["name", "price_cents", "stock"]
    );
    // A path parameter that does not parse is named as the document names it.
    let body = assert_problem(
        app.get("/api/v1/products/abc").await,
        StatusCode::BAD_REQUEST,
        "bad-parameter",
    )
    .await;
    assert_eq!(test_support::http::fields(&body), ["id"]);
}

#[tokio::test]
async fn a_taken_sku_or_email_is_a_conflict() {
    let app = spawn_app().await;
    app.product("DUP", 100, 1).await;
    let again = app
        .post(
            "/api/v1/products",
            &json!({"sku": "dup", "name": "Other", "price_cents": 1, "stock": 1}),
        )
        .await;
    assert_problem(again, StatusCode::CONFLICT, "sku-taken").await;

    app.customer("ada@example.com").await;
    let again = app
        .post(
            "/api/v1/customers",
            &json!({"email": "ADA@example.com", "name": "Ada"}),
        )
        .await;
    assert_problem(again, StatusCode::CONFLICT, "email-taken").await;
}

#[tokio::test]
async fn a_customer_is_created_read_updated_and_deleted() {
    let app = spawn_app().await;
    let id = app.customer("grace@example.com").await;
    let path = format!("/api/v1/customers/{id}");
    let read: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(read["email"], "grace@example.com");
    let updated: Value = app
        .put(
            &path,
            &json!({"email": "grace@navy.example.com", "name": "Grace Hopper"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(updated["name"], "Grace Hopper");
    let invalid = app.put(&path, &json!({"email": "nope", "name": "G"})).await;
    assert_problem(invalid, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
    assert_eq!(app.delete(&path).await.status(), StatusCode::NO_CONTENT);
    assert_problem(app.get(&path).await, StatusCode::NOT_FOUND, "not-found").await;
}

#[tokio::test]
async fn products_and_customers_with_orders_cannot_be_deleted() {
    let app = spawn_app().await;
    let product = app.product("KEEP", 100, 10).await;
    let customer = app.customer("keep@example.com").await;
    assert_eq!(
        app.order(customer, &[(product, 1)], None).await.status(),
        StatusCode::CREATED
    );
    let response = app.delete(&format!("/api/v1/products/{product}")).await;
    assert_problem(response, StatusCode::CONFLICT, "product-referenced").await;
    let response = app.delete(&format!("/api/v1/customers/{customer}")).await;
    assert_problem(response, StatusCode::CONFLICT, "customer-referenced").await;
}

#[tokio::test]
async fn listings_page_with_an_opaque_cursor() {
    let app = spawn_app().await;
    for n in 0..5 {
        app.product(&format!("P{n}"), 100, 1).await;
        app.customer(&format!("c{n}@example.com")).await;
    }
    for resource in ["products", "customers"] {
        let first: Value = app
            .get(&format!("/api/v1/{resource}?limit=2"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(first["items"].as_array().unwrap().len(), 2);
        let mut seen = 2;
        let mut cursor = first["next_cursor"].as_str().unwrap().to_owned();
        loop {
            let page: Value = app
                .get(&format!("/api/v1/{resource}?limit=2&after={cursor}"))
                .await
                .json()
                .await
                .unwrap();
            seen += page["items"].as_array().unwrap().len();
            match page["next_cursor"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => break,
            }
        }
        assert_eq!(seen, 5, "{resource}");
        let all: Value = app
            .get(&format!("/api/v1/{resource}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(all["items"].as_array().unwrap().len(), 5);
        assert!(all["next_cursor"].is_null());
    }
    for (query, parameter) in [
        ("/api/v1/products?after=xyz", "after"),
        ("/api/v1/customers?limit=0", "limit"),
        ("/api/v1/products?limit=1000", "limit"),
    ] {
        let body = assert_problem(
            app.get(query).await,
            StatusCode::BAD_REQUEST,
            "bad-parameter",
        )
        .await;
        assert_eq!(test_support::http::fields(&body), [parameter], "{query}");
    }
}
