//! The fault model, switched three ways: `x-fault-*` headers, the admin endpoint,
//! and configuration; plus the app's `slow_endpoint` scenario.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_TOKEN, problem, spawn_app, spawn_app_with};

const FAST_SLOW_ENDPOINT: (&str, &str) = ("APP__REPORTS__SLOW_DELAY", "400ms");

#[tokio::test]
async fn delay_and_error_headers_apply_to_one_request() {
    let app = spawn_app().await;
    let request = || app.client.get(app.url("/api/v1/products"));
    test_support::http::assert_fault_headers_apply(request, StatusCode::OK).await;
}

#[tokio::test]
async fn a_bad_fault_header_is_a_400_naming_it() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/v1/products"))
        .header("x-fault-scenario", "n_plus_one")
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["header"], "x-fault-scenario");
    assert!(
        body["detail"].as_str().unwrap().contains("slow_endpoint"),
        "{body}"
    );
}

#[tokio::test]
async fn the_slow_endpoint_scenario_slows_only_the_inventory_report() {
    let app = spawn_app_with(&[FAST_SLOW_ENDPOINT]).await;
    let timed = |path: &'static str| {
        let request = app
            .client
            .get(app.url(path))
            .header("x-fault-scenario", "slow_endpoint");
        async move {
            let started = Instant::now();
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            started.elapsed()
        }
    };
    assert!(timed("/api/v1/reports/inventory").await >= Duration::from_millis(400));
    assert!(timed("/api/v1/products").await < Duration::from_millis(400));
}

#[tokio::test]
async fn configured_faults_apply_to_the_api_but_not_to_probes() {
    let app = spawn_app_with(&[
        ("APP__FAULTS__ERRORS__ENABLED", "true"),
        ("APP__FAULTS__ERRORS__RATE", "1.0"),
        ("APP__FAULTS__ERRORS__STATUS", "502"),
    ])
    .await;
    let response = app
        .client
        .get(app.url("/api/v1/products"))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::BAD_GATEWAY).await;
    let probe = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(probe.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_configured_scenario_is_active_without_headers() {
    let app = spawn_app_with(&[
        FAST_SLOW_ENDPOINT,
        ("APP__FAULTS__SLOW_ENDPOINT__ENABLED", "true"),
    ])
    .await;
    let started = Instant::now();
    app.client
        .get(app.url("/api/v1/reports/inventory"))
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(400));
}

#[tokio::test]
async fn the_admin_endpoint_switches_faults_at_runtime_and_resets_them() {
    let app = spawn_app().await;
    let admin = |method: reqwest::Method, path: &str| {
        app.client
            .request(method, app.url(path))
            .bearer_auth(ADMIN_TOKEN)
    };
    let current: Value = admin(reqwest::Method::GET, "/admin/faults")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        current["settings"]["slow_endpoint"]["enabled"], false,
        "{current}"
    );

    let response = admin(reqwest::Method::PUT, "/admin/faults/errors")
        .json(&json!({ "enabled": true, "rate": 1.0, "status": 500 }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert_eq!(status, StatusCode::OK, "{}", response.text().await.unwrap());
    let failing = app
        .client
        .get(app.url("/api/v1/products"))
        .send()
        .await
        .unwrap();
    problem(failing, StatusCode::INTERNAL_SERVER_ERROR).await;

    admin(reqwest::Method::DELETE, "/admin/faults")
        .send()
        .await
        .unwrap();
    let healthy = app
        .client
        .get(app.url("/api/v1/products"))
        .send()
        .await
        .unwrap();
    assert_eq!(healthy.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_admin_endpoint_needs_the_admin_token() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/admin/faults"))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::UNAUTHORIZED).await;
    let editor = app.token("editor").await;
    let response = app
        .client
        .get(app.url("/admin/faults"))
        .bearer_auth(editor)
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn an_unknown_configured_scenario_stops_start_up() {
    let settings: Result<http_rest_api::settings::Settings, _> = service_kit::config::load_from(
        http_rest_api::settings::DEFAULTS,
        None,
        vec![(
            "APP__FAULTS__N_PLUS_ONE__ENABLED".to_owned(),
            "true".to_owned(),
        )],
    );
    let settings = settings.unwrap();
    let err = http_rest_api::startup::build(settings, service_kit::shutdown::Shutdown::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("faults.n_plus_one"), "{err}");
}

#[tokio::test]
async fn with_the_header_switch_off_fault_headers_are_ignored() {
    let app = spawn_app_with(&[("APP__FAULTS__HEADERS", "false")]).await;
    let response = app
        .client
        .get(app.url("/api/v1/products"))
        .header("x-fault-error", "500")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
