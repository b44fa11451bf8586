//! The OpenAPI document and Swagger UI, and the committed `openapi.json`.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let spec: Value = response.json().await.unwrap();
    let paths = spec["paths"].as_object().unwrap();
    for path in [
        "/api/v1/products",
        "/api/v1/products/{id}",
        "/api/v1/products/{id}/image",
        "/api/v1/auth/token",
        "/api/v1/reports/inventory",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    assert!(spec["components"]["securitySchemes"]["BearerToken"].is_object());
}

#[tokio::test]
async fn swagger_ui_is_served() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("swagger"));
}

/// `apps/http-rest-api/openapi.json` is what the app serves (OBI's route patterns
/// are generated from it). `UPDATE_OPENAPI=1 cargo test -p http-rest-api` rewrites it.
#[test]
fn the_committed_openapi_json_is_in_sync() {
    test_support::openapi::assert_committed(
        env!("CARGO_MANIFEST_DIR"),
        env!("CARGO_PKG_NAME"),
        &http_rest_api::routes::openapi_document(),
    );
}
