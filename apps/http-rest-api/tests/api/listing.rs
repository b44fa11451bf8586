//! Listing products: pagination by cursor, filters, sku lists, limits and their errors.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{fields, problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn pages_follow_the_cursor_to_the_end() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    for i in 0..5 {
        app.seed(&token, &format!("SKU-{i}"), "kitchen", 100 + i)
            .await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = app
            .client
            .get(app.url("/api/v1/products"))
            .query(&[("limit", "2")]);
        if let Some(cursor) = &cursor {
            request = request.query(&[("cursor", cursor)]);
        }
        let page: Value = request.send().await.unwrap().json().await.unwrap();
        for item in page["items"].as_array().unwrap() {
            seen.push(item["sku"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["SKU-0", "SKU-1", "SKU-2", "SKU-3", "SKU-4"]);
}

#[tokio::test]
async fn filters_combine() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    app.seed(&token, "MUG-1", "kitchen", 500).await;
    app.seed(&token, "MUG-2", "kitchen", 1500).await;
    app.seed(&token, "PEN-1", "office", 700).await;
    let page: Value = app
        .client
        .get(app.url("/api/v1/products"))
        .query(&[
            ("category", "kitchen"),
            ("min_price", "1000"),
            ("q", "mug"),
            ("in_stock", "true"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let skus: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus, ["MUG-2"]);
}

#[tokio::test]
async fn a_list_of_skus_finds_exactly_those_products() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    for sku in ["CART-1", "CART-2", "OTHER-3"] {
        app.seed(&token, sku, "kitchen", 500).await;
    }
    let page: Value = app
        .client
        .get(app.url("/api/v1/products"))
        .query(&[("sku", "CART-2"), ("sku", "CART-1"), ("sku", "NOT-THERE")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let skus: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].as_str().unwrap())
        .collect();
    assert_eq!(
        skus,
        ["CART-1", "CART-2"],
        "in id order, unknown ones absent"
    );
}

#[tokio::test]
async fn a_limit_the_document_admits_is_never_refused_only_capped() {
    let app = spawn_app_with(&[
        ("APP__STORE__MAX_PAGE_SIZE", "2"),
        ("APP__STORE__DEFAULT_PAGE_SIZE", "2"),
    ])
    .await;
    let token = app.token("editor").await;
    for sku in ["MUG-1", "MUG-2", "MUG-3"] {
        app.seed(&token, sku, "kitchen", 100).await;
    }
    let response = app
        .client
        .get(app.url("/api/v1/products"))
        .query(&[("limit", "100")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page: Value = response.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let document: Value = serde_json::from_str(&http_rest_api::routes::openapi_document()).unwrap();
    let parameters = document["paths"]["/api/v1/products"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let limit = parameters.iter().find(|p| p["name"] == "limit").unwrap();
    assert_eq!(
        (
            limit["schema"]["minimum"].as_f64(),
            limit["schema"]["maximum"].as_f64()
        ),
        (Some(1.0), Some(100.0))
    );
}

#[tokio::test]
async fn bad_list_parameters_are_400s_naming_them() {
    let app = spawn_app().await;
    for (query, field) in [
        (vec![("limit", "101")], "limit"),
        (vec![("limit", "0")], "limit"),
        (vec![("limit", "ten")], "limit"),
        (vec![("cursor", "bogus!")], "cursor"),
        (vec![("min_price", "10"), ("max_price", "5")], "min_price"),
        (vec![("in_stock", "maybe")], "in_stock"),
    ] {
        let response = app
            .client
            .get(app.url("/api/v1/products"))
            .query(&query)
            .send()
            .await
            .unwrap();
        let body = problem(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(fields(&body), [field], "{query:?}");
    }
}
