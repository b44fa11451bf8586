//! Products CRUD: validation, ETags, capacity (listing: listing.rs).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{fields, problem, product, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_created_product_can_be_read_back_with_its_etag() {
    let app = spawn_app().await;
    let token = app.token("editor").await;

    let response = app
        .create_product(&token, &product("MUG-1", "kitchen", 1299))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    assert_eq!(location, format!("/api/v1/products/{}", created["id"]));

    let read = app.client.get(app.url(&location)).send().await.unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(read.headers()["etag"].to_str().unwrap(), etag);
    let body: Value = read.json().await.unwrap();
    assert_eq!(body["sku"], "MUG-1");
    assert_eq!(body["price_cents"], 1299);
    assert_eq!(body["version"], 1);
}

#[tokio::test]
async fn an_unchanged_product_answers_304_to_if_none_match() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let created = app.seed(&token, "MUG-1", "kitchen", 100).await;
    let url = app.url(&format!("/api/v1/products/{}", created["id"]));
    let etag = app.client.get(&url).send().await.unwrap().headers()["etag"].clone();

    let response = app
        .client
        .get(&url)
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    // `*` matches any current representation (RFC 9110).
    let response = app
        .client
        .get(&url)
        .header("if-none-match", "*")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn an_unknown_product_is_a_404_problem() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/v1/products/999"))
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::NOT_FOUND).await;
    assert_eq!(body["type"], "urn:obi-examples:problem:not-found");
}

#[tokio::test]
async fn a_non_numeric_id_is_a_400_naming_it() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/v1/products/abc"))
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(fields(&body), ["id"]);
}

#[tokio::test]
async fn an_invalid_product_is_a_422_naming_every_bad_field() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let response = app
        .create_product(
            &token,
            &json!({ "sku": "lower", "name": "", "category": "Bad Cat", "price_cents": -5, "stock": "many", "colour": "red" }),
        )
        .await;
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    // `colour` is not a field: ignored, as the document allows other members.
    assert_eq!(
        fields(&body),
        ["category", "name", "price_cents", "sku", "stock"]
    );
}

#[tokio::test]
async fn members_the_document_does_not_name_are_ignored() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let response = app
        .create_product(
            &token,
            &json!({ "sku": "MUG-9", "name": "Mug", "category": "kitchen", "price_cents": 5, "stock": 1, "colour": "red", "": [1] }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn ids_outside_1_to_2_pow_53_are_a_400_the_document_announces() {
    let app = spawn_app().await;
    for id in [
        "0",
        "-42970",
        "9007199254740992",
        "3086093632719792929505280",
    ] {
        let response = app
            .client
            .get(app.url(&format!("/api/v1/products/{id}")))
            .send()
            .await
            .unwrap();
        let body = problem(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(fields(&body), ["id"], "{id}");
    }
    let document: Value = serde_json::from_str(include_str!("../../openapi.json")).unwrap();
    let id = &document["paths"]["/api/v1/products/{id}"]["get"]["parameters"][0]["schema"];
    assert_eq!(id["minimum"].as_f64(), Some(1.0), "{id}");
    assert!(id["maximum"].as_f64().unwrap() > 9.0e15, "{id}");
}

#[tokio::test]
async fn malformed_json_and_other_media_types_are_refused() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let response = app
        .client
        .post(app.url("/api/v1/products"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"sku\": ")
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["type"], "urn:obi-examples:problem:malformed-json");

    let response = app
        .client
        .post(app.url("/api/v1/products"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("sku=ABC")
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;

    let response = app
        .client
        .post(app.url("/api/v1/products"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(format!("\"{}\"", "x".repeat(70_000)))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
}

#[tokio::test]
async fn a_duplicate_sku_is_a_409_naming_the_field() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    app.seed(&token, "MUG-1", "kitchen", 100).await;
    let response = app
        .create_product(&token, &product("MUG-1", "other", 5))
        .await;
    let body = problem(response, StatusCode::CONFLICT).await;
    assert_eq!(fields(&body), ["sku"]);
}

#[tokio::test]
async fn an_update_with_a_stale_etag_is_a_412_with_the_current_one() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let created = app.seed(&token, "MUG-1", "kitchen", 100).await;
    let url = app.url(&format!("/api/v1/products/{}", created["id"]));
    let first_etag = app.client.get(&url).send().await.unwrap().headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();

    let updated = app
        .client
        .put(&url)
        .bearer_auth(&token)
        .header("if-match", &first_etag)
        .json(&product("MUG-1", "kitchen", 200))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), StatusCode::OK);
    let new_etag = updated.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_etag, first_etag);

    let stale = app
        .client
        .put(&url)
        .bearer_auth(&token)
        .header("if-match", &first_etag)
        .json(&product("MUG-1", "kitchen", 300))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.headers()["etag"].to_str().unwrap(), new_etag);
    let body = problem(stale, StatusCode::PRECONDITION_FAILED).await;
    assert_eq!(body["current_etag"], new_etag);

    let current: Value = app
        .client
        .get(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(current["price_cents"], 200);
}

#[tokio::test]
async fn updating_a_missing_product_is_a_404_and_an_invalid_update_a_422() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let response = app
        .client
        .put(app.url("/api/v1/products/42"))
        .bearer_auth(&token)
        .json(&product("MUG-1", "kitchen", 200))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::NOT_FOUND).await;

    let created = app.seed(&token, "MUG-1", "kitchen", 100).await;
    let response = app
        .client
        .put(app.url(&format!("/api/v1/products/{}", created["id"])))
        .bearer_auth(&token)
        .json(&json!({ "sku": "MUG-1" }))
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&body), ["category", "name", "price_cents", "stock"]);
}

#[tokio::test]
async fn an_admin_deletes_and_the_product_is_gone() {
    let app = spawn_app().await;
    let editor = app.token("editor").await;
    let admin = app.token("admin").await;
    let created = app.seed(&editor, "MUG-1", "kitchen", 100).await;
    let url = app.url(&format!("/api/v1/products/{}", created["id"]));

    let stale = app
        .client
        .delete(&url)
        .bearer_auth(&admin)
        .header("if-match", "\"1-99\"")
        .send()
        .await
        .unwrap();
    problem(stale, StatusCode::PRECONDITION_FAILED).await;

    let deleted = app
        .client
        .delete(&url)
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = app.client.get(&url).send().await.unwrap();
    problem(gone, StatusCode::NOT_FOUND).await;
    let again = app
        .client
        .delete(&url)
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    problem(again, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn a_full_store_answers_507_until_a_product_is_deleted() {
    let app = spawn_app_with(&[("APP__STORE__CAPACITY", "2")]).await;
    let editor = app.token("editor").await;
    let admin = app.token("admin").await;
    let first = app.seed(&editor, "SKU-1", "a", 1).await;
    app.seed(&editor, "SKU-2", "a", 1).await;

    let full = app.create_product(&editor, &product("SKU-3", "a", 1)).await;
    let body = problem(full, StatusCode::INSUFFICIENT_STORAGE).await;
    assert_eq!(body["type"], "urn:obi-examples:problem:store-full");

    app.client
        .delete(app.url(&format!("/api/v1/products/{}", first["id"])))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let response = app.create_product(&editor, &product("SKU-3", "a", 1)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn the_inventory_report_sums_stock_and_value_by_category() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    app.seed(&token, "MUG-1", "kitchen", 100).await;
    app.seed(&token, "MUG-2", "kitchen", 200).await;
    app.seed(&token, "PEN-1", "office", 50).await;
    let report: Value = app
        .client
        .get(app.url("/api/v1/reports/inventory"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["products"], 3);
    assert_eq!(report["stock"], 15);
    assert_eq!(report["value_cents"], 5 * 350);
    assert_eq!(report["categories"][0]["category"], "kitchen");
    assert_eq!(report["categories"][0]["value_cents"], 5 * 300);
}

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/v2/nothing"))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::NOT_FOUND).await;
    let response = app
        .client
        .patch(app.url("/api/v1/products/1"))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error());
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
}
