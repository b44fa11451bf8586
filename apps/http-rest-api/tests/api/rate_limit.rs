//! Per-client token buckets: 429 with `Retry-After`, per user of a valid token (junk
//! tokens count as none), off-switchable.

use reqwest::StatusCode;

use crate::helpers::{problem, spawn_app, spawn_app_with};

const LIMITED: &[(&str, &str)] = &[
    ("APP__RATE_LIMIT__ENABLED", "true"),
    ("APP__RATE_LIMIT__REQUESTS_PER_SECOND", "1"),
    ("APP__RATE_LIMIT__BURST", "3"),
];

#[tokio::test]
async fn a_client_past_its_burst_gets_a_429_with_retry_after() {
    let app = spawn_app_with(LIMITED).await;
    for _ in 0..3 {
        let response = app
            .client
            .get(app.url("/api/v1/products"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let response = app
        .client
        .get(app.url("/api/v1/products"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["retry-after"], "1");
    let body = problem(response, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(body["type"], "urn:obi-examples:problem:rate-limited");
}

#[tokio::test]
async fn a_user_with_a_token_has_a_bucket_apart_from_the_address_and_probes_are_never_limited() {
    let app = spawn_app_with(LIMITED).await;
    // Three requests from this address, the token request included.
    let token = app.token("reader").await;
    for _ in 0..2 {
        app.client
            .get(app.url("/api/v1/products"))
            .send()
            .await
            .unwrap();
    }
    let anonymous = app
        .client
        .get(app.url("/api/v1/products"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::TOO_MANY_REQUESTS);

    let with_token = app
        .client
        .get(app.url("/api/v1/products"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), StatusCode::OK);
    for path in ["/healthz", "/readyz", "/openapi.json"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn a_users_tokens_share_one_bucket_and_another_user_has_their_own() {
    // The k6 mix's greedy client relies on this: it runs as `crawler`, because as
    // `reader` its burst of 429s would land on every other reader's requests.
    let app = spawn_app_with(LIMITED).await;
    let (first, second) = (app.token("reader").await, app.token("reader").await);
    let crawler = app.token("crawler").await;
    let get = |token: &str| {
        app.client
            .get(app.url("/api/v1/products"))
            .bearer_auth(token)
            .send()
    };
    for _ in 0..3 {
        assert_eq!(get(&first).await.unwrap().status(), StatusCode::OK);
    }
    assert_eq!(
        get(&second).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a new token of the same user starts no new bucket"
    );
    assert_eq!(get(&crawler).await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn the_bucket_refills_with_time() {
    let app = spawn_app_with(LIMITED).await;
    for _ in 0..4 {
        app.client
            .get(app.url("/api/v1/products"))
            .send()
            .await
            .unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let response = app
        .client
        .get(app.url("/api/v1/products"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn switched_off_no_client_is_limited() {
    let app = spawn_app().await;
    for _ in 0..200 {
        let response = app
            .client
            .get(app.url("/api/v1/products"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn a_junk_token_per_request_is_limited_like_no_token() {
    let app = spawn_app_with(LIMITED).await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let response = app
            .client
            .get(app.url("/api/v1/products"))
            .bearer_auth(format!("junk-{i}"))
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count(),
        3,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn a_429_before_the_body_is_read_closes_the_connection_saying_so() {
    let app = spawn_app_with(LIMITED).await;
    for _ in 0..3 {
        app.client
            .get(app.url("/api/v1/products"))
            .send()
            .await
            .unwrap();
    }
    let response = app
        .client
        .post(app.url("/api/v1/products"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["connection"], "close");
}
