//! Tokens and roles: reads are public, writes need a bearer token whose role allows them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{problem, product, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_demo_user_gets_a_bearer_token_with_its_role() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({ "username": "editor", "password": "editor-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["role"], "editor");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["access_token"].as_str().unwrap().split('.').count(), 3);
}

#[tokio::test]
async fn wrong_credentials_are_a_401() {
    let app = spawn_app().await;
    for (user, password) in [("editor", "nope"), ("nobody", "editor-password")] {
        let response = app
            .client
            .post(app.url("/api/v1/auth/token"))
            .json(&json!({ "username": user, "password": password }))
            .send()
            .await
            .unwrap();
        let body = problem(response, StatusCode::UNAUTHORIZED).await;
        assert_eq!(body["type"], "urn:obi-examples:problem:unauthorized");
    }
}

#[tokio::test]
async fn a_malformed_token_request_is_a_400_problem() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({ "username": "editor" }))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn writes_without_a_token_are_a_401_with_a_challenge() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/products"))
        .json(&product("MUG-1", "kitchen", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["www-authenticate"].to_str().unwrap(),
        "Bearer realm=\"http-rest-api\""
    );
    problem(response, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn an_invalid_or_foreign_token_is_a_401() {
    let app = spawn_app().await;
    let other = spawn_app_with(&[("APP__AUTH__JWT_SECRET", "another-secret")]).await;
    let foreign = other.token("admin").await;
    for token in ["garbage", foreign.as_str()] {
        let response = app
            .create_product(token, &product("MUG-1", "kitchen", 1))
            .await;
        let body = problem(response, StatusCode::UNAUTHORIZED).await;
        assert!(
            body["detail"].as_str().unwrap().contains("not valid"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn an_expired_token_is_a_401() {
    // The shortest lifetime the settings admit (0s is refused at start-up).
    let app = spawn_app_with(&[("APP__AUTH__TOKEN_TTL", "1s")]).await;
    let token = app.token("editor").await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let response = app
        .create_product(&token, &product("MUG-1", "kitchen", 1))
        .await;
    problem(response, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_reader_may_not_write_and_an_editor_may_not_delete() {
    let app = spawn_app().await;
    let reader = app.token("reader").await;
    let editor = app.token("editor").await;

    let response = app
        .create_product(&reader, &product("MUG-1", "kitchen", 1))
        .await;
    let body = problem(response, StatusCode::FORBIDDEN).await;
    assert!(
        body["detail"].as_str().unwrap().contains("editor"),
        "{body}"
    );

    let created = app.seed(&editor, "MUG-1", "kitchen", 1).await;
    let response = app
        .client
        .delete(app.url(&format!("/api/v1/products/{}", created["id"])))
        .bearer_auth(&editor)
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn reads_need_no_token() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/v1/products"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
