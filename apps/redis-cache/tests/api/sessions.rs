//! Sessions in Redis: login, me (refreshing the TTL), logout, and the error paths.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app, spawn_app_with};

async fn login(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/sessions"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn me(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .get(app.url("/api/v1/sessions/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn login_me_and_logout() {
    let app = spawn_app().await;
    let response = login(&app, "ann", "obi-examples").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let session: Value = response.json().await.unwrap();
    let token = session["token"].as_str().unwrap().to_owned();
    assert_eq!(session["expires_in_seconds"], 1800);

    let response = me(&app, &token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["username"], "ann");
    assert!(body.get("token").is_none());

    let response = app
        .client
        .delete(app.url("/api/v1/sessions/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_problem(
        me(&app, &token).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let again = app
        .client
        .delete(app.url("/api/v1/sessions/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_problem(again, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn use_refreshes_the_ttl_and_idle_sessions_expire() {
    let app = spawn_app_with(|s| s.sessions.ttl = Duration::from_secs(2)).await;
    let session: Value = login(&app, "bob", "obi-examples")
        .await
        .json()
        .await
        .unwrap();
    let token = session["token"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(
            me(&app, &token).await.status(),
            StatusCode::OK,
            "use keeps it alive"
        );
    }
    let ttl = app.pttl(&format!("session:{token}")).await;
    assert!(ttl > 1000, "refreshed: {ttl}");
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert_problem(
        me(&app, &token).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn bad_logins_and_missing_tokens_are_refused() {
    let app = spawn_app().await;
    assert_problem(
        login(&app, "ann", "wrong").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    assert_problem(
        login(&app, "no spaces", "obi-examples").await,
        StatusCode::BAD_REQUEST,
        "bad-body",
    )
    .await;
    assert_problem(
        login(&app, "", "obi-examples").await,
        StatusCode::BAD_REQUEST,
        "bad-body",
    )
    .await;
    let response = app.get("/api/v1/sessions/me").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_problem(
        me(&app, "unknown").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let response = app
        .client
        .post(app.url("/api/v1/sessions"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}
