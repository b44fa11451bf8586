//! Faults as gRPC statuses: `x-fault-*` headers, the admin endpoint, deadlines,
//! `deadline_storm`, `stalled_stream` and the in-flight limit.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use grpc_microservice::proto::{GetStockRequest, WatchStockRequest};
use poem_grpc::{Code, Request};
use serde_json::json;

use crate::helpers::{TOKEN, code, settings, spawn, spawn_with};

/// A `GetStock` call with the admin token in `x-fault-token` and `pairs` as metadata.
fn get(pairs: &[(&str, &str)]) -> Request<GetStockRequest> {
    let mut req = anonymous(pairs);
    req.metadata_mut().insert("x-fault-token", TOKEN);
    req
}

fn anonymous(pairs: &[(&str, &str)]) -> Request<GetStockRequest> {
    let mut req = Request::new(GetStockRequest {
        sku: "SKU-00001".into(),
    });
    for (name, value) in pairs {
        req.metadata_mut().insert(*name, *value);
    }
    req
}

#[tokio::test]
async fn fault_headers_without_the_admin_token_are_permission_denied() {
    let mut app = spawn().await;
    let client = app.client();
    for pairs in [
        &[("x-fault-error", "503")][..],
        &[("x-fault-delay", "2s"), ("x-fault-token", "guess")][..],
    ] {
        let result = client.get_stock(anonymous(pairs)).await;
        assert_eq!(code(result), Code::PermissionDenied, "{pairs:?}");
    }
    assert!(client.get_stock(anonymous(&[])).await.is_ok());
    app.stop().await;
}

#[tokio::test]
async fn an_error_header_becomes_the_matching_grpc_status() {
    let mut app = spawn().await;
    let client = app.client();
    for (http, grpc) in [
        ("503", Code::Unavailable),
        ("500", Code::Internal),
        ("429", Code::ResourceExhausted),
        ("504", Code::DeadlineExceeded),
    ] {
        let result = client.get_stock(get(&[("x-fault-error", http)])).await;
        assert_eq!(code(result), grpc, "{http}");
    }
    app.stop().await;
}

#[tokio::test]
async fn bad_fault_headers_are_invalid_arguments() {
    let mut app = spawn().await;
    let client = app.client();
    for (name, value) in [
        ("x-fault-delay", "soon"),
        ("x-fault-error", "200"),
        ("x-fault-scenario", "n_plus_one"),
    ] {
        let result = client.get_stock(get(&[(name, value)])).await;
        assert_eq!(code(result), Code::InvalidArgument, "{name}: {value}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_delay_beyond_the_deadline_is_deadline_exceeded() {
    let mut app = spawn().await;
    let client = app.client();
    let started = Instant::now();
    let late = client
        .get_stock(get(&[("x-fault-delay", "2s"), ("grpc-timeout", "100m")]))
        .await;
    assert_eq!(code(late), Code::DeadlineExceeded);
    assert!(started.elapsed() < Duration::from_secs(1));
    let slow = client.get_stock(get(&[("x-fault-delay", "100ms")])).await;
    assert!(slow.is_ok());
    app.stop().await;
}

#[tokio::test]
async fn a_deadline_storm_times_out_callers_with_deadlines() {
    let mut settings = settings();
    settings.grpc.storm_delay = Duration::from_millis(300);
    let mut app = spawn_with(settings).await;
    let client = app.client();
    let storm = client
        .get_stock(get(&[
            ("x-fault-scenario", "deadline_storm"),
            ("grpc-timeout", "100m"),
        ]))
        .await;
    assert_eq!(code(storm), Code::DeadlineExceeded);
    let started = Instant::now();
    let patient = client
        .get_stock(get(&[("x-fault-scenario", "deadline_storm")]))
        .await;
    assert!(patient.is_ok());
    assert!(started.elapsed() >= Duration::from_millis(300));
    app.stop().await;
}

#[tokio::test]
async fn a_stalled_stream_sends_one_message_then_waits_for_the_deadline() {
    let mut app = spawn().await;
    let mut req = Request::new(WatchStockRequest {
        skus: vec!["SKU-00001".into(), "SKU-00002".into()],
        watch_ms: 0,
    });
    req.metadata_mut()
        .insert("x-fault-scenario", "stalled_stream");
    req.metadata_mut().insert("x-fault-token", TOKEN);
    req.metadata_mut().insert("grpc-timeout", "300m");
    let mut watch = app.client().watch_stock(req).await.unwrap().into_inner();
    assert!(watch.next().await.unwrap().is_ok());
    app.state.put("SKU-00002", 5);
    let end = tokio::time::timeout(Duration::from_secs(3), watch.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(end.unwrap_err().code(), Code::DeadlineExceeded);
    app.stop().await;
}

#[tokio::test]
async fn the_in_flight_limit_answers_resource_exhausted() {
    let mut settings = settings();
    settings.grpc.max_in_flight = 1;
    let mut app = spawn_with(settings).await;
    let client = app.client();
    let slow = {
        let client = client.clone();
        tokio::spawn(async move { client.get_stock(get(&[("x-fault-delay", "500ms")])).await })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        code(client.get_stock(get(&[])).await),
        Code::ResourceExhausted
    );
    assert!(slow.await.unwrap().is_ok());
    assert!(client.get_stock(get(&[])).await.is_ok());
    app.stop().await;
}

#[tokio::test]
async fn the_admin_endpoint_switches_error_statuses() {
    let mut app = spawn().await;
    let http = &app.client;
    let url = format!("{}/admin/faults/errors", app.uri());
    let response = http
        .put(&url)
        .bearer_auth(TOKEN)
        .json(&json!({ "enabled": true, "rate": 1.0, "status": 503 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let client = app.client();
    assert_eq!(code(client.get_stock(get(&[])).await), Code::Unavailable);
    let unauthorized = http
        .delete(format!("{}/admin/faults", app.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), 401);
    http.delete(format!("{}/admin/faults", app.uri()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert!(client.get_stock(get(&[])).await.is_ok());
    app.stop().await;
}
