//! PostgreSQL going away under write load and coming back: requests fail fast with
//! 503, `/readyz` fails, the app recovers by itself, and no acknowledged order is lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::helpers::{assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn an_outage_gives_fast_503s_and_loses_no_acknowledged_order() {
    // Fail fast while PostgreSQL is away: the pool gives up after 800 ms.
    let app =
        Arc::new(spawn_app_with(|s| s.database.acquire_timeout = Duration::from_millis(800)).await);
    let mug = app.product("MUG", 100, 100_000).await;
    let customer = app.customer("outage@example.com").await;

    let running = Arc::new(AtomicBool::new(true));
    let acknowledged = Arc::new(Mutex::new(Vec::<i64>::new()));
    let mut writers = Vec::new();
    for writer in 0..4 {
        let (app, running, acknowledged) = (app.clone(), running.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            let mut unavailable = 0;
            let mut attempt = 0;
            while running.load(Ordering::SeqCst) {
                attempt += 1;
                let key = format!("w{writer}-{attempt}");
                let started = Instant::now();
                let response = app.order(customer, &[(mug, 1)], Some(&key)).await;
                match response.status() {
                    StatusCode::CREATED => {
                        let order: Value = response.json().await.unwrap();
                        acknowledged
                            .lock()
                            .await
                            .push(order["id"].as_i64().unwrap());
                    }
                    StatusCode::SERVICE_UNAVAILABLE => {
                        assert!(
                            started.elapsed() < Duration::from_secs(3),
                            "a 503 took {:?}",
                            started.elapsed()
                        );
                        unavailable += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    other => panic!("unexpected {other}: {}", response.text().await.unwrap()),
                }
            }
            unavailable
        }));
    }

    tokio::time::sleep(Duration::from_millis(500)).await;
    let before_cut = acknowledged.lock().await.len();
    assert!(before_cut > 0, "writes were flowing before the cut");
    app.proxy.cut();

    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let response = app.get(&format!("/api/v1/products/{mug}")).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_problem(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "database-unavailable",
    )
    .await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        app.get("/healthz").await.status(),
        StatusCode::OK,
        "liveness does not depend on PostgreSQL"
    );

    tokio::time::sleep(Duration::from_millis(700)).await;
    app.proxy.restore();
    app.wait_ready(Duration::from_secs(30)).await;
    let during = acknowledged.lock().await.len();
    tokio::time::sleep(Duration::from_millis(500)).await;
    running.store(false, Ordering::SeqCst);
    let mut unavailable = 0;
    for writer in writers {
        unavailable += writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().await.clone();
    assert!(unavailable > 0, "some writes met the outage");
    assert!(
        acknowledged.len() > during,
        "writes succeed again after the restore"
    );

    let stored: Vec<i64> = sqlx::query_scalar("SELECT id FROM orders WHERE id = ANY($1)")
        .bind(&acknowledged)
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(
        stored.len(),
        acknowledged.len(),
        "every acknowledged order is stored"
    );
    let orders: i64 = app.count("orders").await;
    assert_eq!(
        i64::from(app.stock(mug).await),
        100_000 - orders,
        "stock matches the stored orders"
    );
}

/// While PostgreSQL is unreachable (refused, or silent: connections accepted and
/// never answered), `/readyz` answers 503 well within the kubelet's default 1 s
/// probe timeout: the kit bounds each check (500 ms), not the pool's
/// `acquire_timeout` (2 s by default, as here), which once set its pace.
#[tokio::test]
async fn readiness_answers_fast_while_postgresql_is_cut() {
    let app = spawn_app().await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    app.proxy.stall();
    for _ in 0..3 {
        let started = Instant::now();
        let ready = app.get("/readyz").await;
        let took = started.elapsed();
        assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(took < Duration::from_millis(800), "/readyz took {took:?}");
    }
    app.proxy.restore();
    let started = Instant::now();
    while app.get("/readyz").await.status() != StatusCode::OK {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not ready again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
