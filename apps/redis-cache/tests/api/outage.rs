//! Redis going away under load and coming back: cached reads fall back to the
//! origin (200, `x-cache: bypass`, `x-cache-degraded`), sessions answer 503,
//! `/readyz` reports degraded, and everything recovers by itself — including the
//! price subscriber, which resubscribes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, cache_header, spawn_app};
use crate::prices::{listen, next_event, set_price};

#[tokio::test]
async fn an_outage_degrades_reads_fails_sessions_and_recovers() {
    let app = Arc::new(spawn_app().await);
    let session: Value = app
        .client
        .post(app.url("/api/v1/sessions"))
        .json(&json!({"username": "ann", "password": "obi-examples"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["token"].as_str().unwrap().to_owned();

    let running = Arc::new(AtomicBool::new(true));
    let bypassed = Arc::new(AtomicU64::new(0));
    let mut readers = Vec::new();
    for reader in 0..4_i64 {
        let (app, running, bypassed) = (app.clone(), running.clone(), bypassed.clone());
        readers.push(tokio::spawn(async move {
            let mut n = 0;
            while running.load(Ordering::SeqCst) {
                n += 1;
                let started = Instant::now();
                let response = app
                    .get(&format!("/api/v1/products/{}", 1 + (reader * 7 + n) % 20))
                    .await;
                assert_eq!(response.status(), StatusCode::OK, "reads never fail");
                assert!(
                    started.elapsed() < Duration::from_secs(2),
                    "{:?}",
                    started.elapsed()
                );
                if cache_header(&response) == "bypass" {
                    assert_eq!(response.headers()["x-cache-degraded"], "redis-unavailable");
                    bypassed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }

    tokio::time::sleep(Duration::from_millis(500)).await;
    app.proxy.cut();
    app.wait_status("degraded", Duration::from_secs(5)).await;
    let response = app
        .client
        .get(app.url("/api/v1/sessions/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_problem(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "redis-unavailable",
    )
    .await;
    let response = app
        .client
        .delete(app.url("/api/v1/products/1/cache"))
        .send()
        .await
        .unwrap();
    assert_problem(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "redis-unavailable",
    )
    .await;
    let response = set_price(&app, 2, 777).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the origin took the change"
    );
    assert_eq!(response.headers()["x-cache-degraded"], "redis-unavailable");
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(
        app.get("/readyz").await.status(),
        StatusCode::OK,
        "degraded is still ready"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        bypassed.load(Ordering::Relaxed) > 0,
        "reads went to the origin"
    );

    app.proxy.restore();
    app.wait_status("ready", Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    running.store(false, Ordering::SeqCst);
    for reader in readers {
        reader.await.unwrap();
    }
    let response = app
        .client
        .get(app.url("/api/v1/sessions/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the session survived in Redis"
    );
    app.get("/api/v1/products/3").await;
    assert_eq!(app.read(3).await.1, "hit", "caching again");
    assert!(app.counter("redis_errors").await > 0);

    let mut stream = listen(&app).await;
    assert_eq!(set_price(&app, 3, 555).await.status(), StatusCode::OK);
    let event = next_event(&mut stream).await;
    assert_eq!(event["price_cents"], 555, "the subscriber resubscribed");
}
