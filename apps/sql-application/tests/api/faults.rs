//! The fault scenarios, with the symptom OBI would see measured on the wire: N+1
//! counts statements per request, slow_query and pool_exhaustion measure time and
//! status, latency and errors come from the kit; the admin endpoint switches them.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use test_support::http::assert_fault_headers_apply;

use crate::helpers::{ADMIN_TOKEN, TestApp, assert_problem, spawn_app, spawn_app_with};

async fn orders(app: &TestApp, count: usize) {
    let mug = app.product("MUG", 100, 1000).await;
    let customer = app.customer("n1@example.com").await;
    for _ in 0..count {
        assert_eq!(
            app.order(customer, &[(mug, 1)], None).await.status(),
            StatusCode::CREATED
        );
    }
}

async fn statements_for(app: &TestApp, request: reqwest::RequestBuilder) -> (u64, Value) {
    let before = app.proxy.executes();
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.json().await.unwrap();
    (app.proxy.executes() - before, body)
}

#[tokio::test]
async fn n_plus_one_runs_a_query_per_order_and_returns_the_same_page() {
    let app = spawn_app().await;
    orders(&app, 15).await;
    let url = app.url("/api/v1/orders?limit=15");

    let (joined, normal) = statements_for(&app, app.client.get(&url)).await;
    let (n_plus_one, faulty) = statements_for(
        &app,
        app.client
            .get(&url)
            .header("x-fault-scenario", "n_plus_one"),
    )
    .await;

    assert!(joined <= 2, "the JOIN path ran {joined} statements");
    assert!(n_plus_one >= 16, "the N+1 path ran {n_plus_one} statements");
    assert_eq!(
        normal, faulty,
        "the fault changes the queries, not the answer"
    );
}

#[tokio::test]
async fn slow_query_takes_the_unindexed_path_and_sleeps() {
    let app = spawn_app_with(|s| s.scenarios.slow_query_sleep = Duration::from_millis(600)).await;
    orders(&app, 2).await;
    let fast: Value = app.get("/api/v1/reports/sales").await.json().await.unwrap();

    let started = Instant::now();
    let response = app
        .client
        .get(app.url("/api/v1/reports/sales"))
        .header("x-fault-scenario", "slow_query")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(600));
    let slow: Value = response.json().await.unwrap();
    assert_eq!(
        (fast["plan"].as_str(), slow["plan"].as_str()),
        (Some("index"), Some("full_scan"))
    );
    assert_eq!(fast["rows"], slow["rows"]);
}

#[tokio::test]
async fn the_fast_report_plan_uses_the_created_at_index() {
    let app = spawn_app().await;
    // With the planner told to avoid sequential scans, the fast predicate can use the
    // index and the slow one cannot: the difference the fault is about.
    let explain = |predicate: &str| {
        format!(
            "EXPLAIN SELECT count(*) FROM orders o WHERE {predicate} >= now() - make_interval(days => 7)"
        )
    };
    let mut conn = app.db.acquire().await.unwrap();
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut *conn)
        .await
        .unwrap();
    let plan = |rows: Vec<(String,)>| rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join("\n");
    let fast = plan(
        sqlx::query_as(sqlx::AssertSqlSafe(explain("o.created_at")))
            .fetch_all(&mut *conn)
            .await
            .unwrap(),
    );
    let slow = plan(
        sqlx::query_as(sqlx::AssertSqlSafe(explain(
            "date_trunc('second', o.created_at)",
        )))
        .fetch_all(&mut *conn)
        .await
        .unwrap(),
    );
    assert!(fast.contains("Index Cond: (created_at >="), "{fast}");
    assert!(!slow.contains("Index Cond"), "{slow}");
}

#[tokio::test]
async fn pool_exhaustion_makes_other_requests_fail_fast_with_503() {
    let app = spawn_app_with(|s| {
        s.database.max_connections = 2;
        s.database.acquire_timeout = Duration::from_millis(500);
        s.scenarios.pool_hold = Duration::from_millis(3000);
    })
    .await;
    let mug = app.product("MUG", 100, 10).await;
    // Open both connections first (opening one counts against the acquire timeout
    // and is slow on a busy machine), so the hogs take them straight from the pool.
    let path = format!("/api/v1/products/{mug}");
    futures_util::future::join(app.get(&path), app.get(&path)).await;
    let hogs: Vec<_> = (0..2)
        .map(|_| {
            app.client
                .get(app.url(&format!("/api/v1/products/{mug}")))
                .header("x-fault-scenario", "pool_exhaustion")
                .send()
        })
        .collect();
    let hogs = tokio::spawn(futures_util::future::join_all(hogs));
    tokio::time::sleep(Duration::from_millis(500)).await;

    let started = Instant::now();
    let victim = app.get(&format!("/api/v1/products/{mug}")).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_problem(
        victim,
        StatusCode::SERVICE_UNAVAILABLE,
        "database-unavailable",
    )
    .await;
    assert_eq!(
        app.get("/readyz").await.status(),
        StatusCode::OK,
        "the probe has its own connection"
    );

    for hog in hogs.await.unwrap() {
        assert_eq!(
            hog.unwrap().status(),
            StatusCode::OK,
            "the hogs themselves finish"
        );
    }
    assert_eq!(
        app.get(&format!("/api/v1/products/{mug}")).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn latency_and_error_headers_apply_to_one_request() {
    let app = spawn_app().await;
    let request = || app.client.get(app.url("/api/v1/products"));
    assert_fault_headers_apply(request, StatusCode::OK).await;
}

#[tokio::test]
async fn the_admin_endpoint_switches_n_plus_one_for_every_request() {
    let app = spawn_app().await;
    orders(&app, 12).await;
    let admin = |request: reqwest::RequestBuilder| request.bearer_auth(ADMIN_TOKEN);
    let listed: Value = admin(app.client.get(app.url("/admin/faults")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names = listed.to_string();
    for scenario in ["n_plus_one", "slow_query", "pool_exhaustion"] {
        assert!(names.contains(scenario), "{names}");
    }
    let switched = admin(app.client.put(app.url("/admin/faults/n_plus_one")))
        .json(&json!({"enabled": true, "rate": 1.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(switched.status(), StatusCode::OK);
    let (statements, _) =
        statements_for(&app, app.client.get(app.url("/api/v1/orders?limit=12"))).await;
    assert!(statements >= 13, "{statements}");

    admin(app.client.delete(app.url("/admin/faults")))
        .send()
        .await
        .unwrap();
    let (statements, _) =
        statements_for(&app, app.client.get(app.url("/api/v1/orders?limit=12"))).await;
    assert!(statements <= 2, "{statements}");
    let anonymous = app
        .client
        .get(app.url("/admin/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}
