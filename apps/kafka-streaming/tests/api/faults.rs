//! Faults: poison records end in the dead-letter topic with their error and origin;
//! a producer burst is processed once; a slow consumer builds lag; the kit's latency
//! and error faults; the admin endpoint lists the scenarios.

use std::time::{Duration, Instant};

use rdkafka::Message;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_TOKEN, assert_problem, event, header, ids, spawn_app};
use test_support::http::assert_fault_headers_apply;

#[tokio::test]
async fn poison_goes_to_the_dead_letter_topic_with_error_and_origin() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/events"))
        .header("x-fault-scenario", "poison_rate")
        .json(&event("poison-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(app.publish("fine-1").await.status(), StatusCode::ACCEPTED);

    let stats = app
        .wait_stat("dead_lettered", 1, Duration::from_secs(30))
        .await;
    assert_eq!(stats["retries"], 2, "{stats}");
    app.wait_stat("processed", 1, Duration::from_secs(30)).await;
    let dead = app.dead_letters(1);
    assert_eq!(dead.len(), 1);
    let record = &dead[0];
    assert_eq!(record.key(), Some(b"poison-1".as_slice()));
    assert!(record.payload().unwrap().starts_with(b"\0poison:"));
    assert!(header(record, "x-error").unwrap().contains("undecodable"));
    assert_eq!(
        header(record, "x-origin-topic").unwrap(),
        app.settings.kafka.input_topic
    );
    assert_eq!(
        header(record, "x-origin-partition").unwrap(),
        accepted["partition"].to_string()
    );
    assert_eq!(
        header(record, "x-origin-offset").unwrap(),
        accepted["offset"].to_string()
    );
    assert_eq!(header(record, "x-attempts").unwrap(), "3");
    assert_eq!(ids(&app.output(1)).keys().collect::<Vec<_>>(), ["fine-1"]);
}

#[tokio::test]
async fn a_burst_is_written_many_times_and_processed_once() {
    let app = spawn_app_with_burst().await;
    let response = app
        .client
        .post(app.url("/api/v1/events"))
        .header("x-fault-scenario", "producer_burst")
        .json(&event("burst-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    // The copies are in flight together: the duplicates may be counted before the
    // first copy's result is acknowledged.
    app.wait_stat("duplicates", 4, Duration::from_secs(30))
        .await;
    let stats = app.wait_stat("processed", 1, Duration::from_secs(30)).await;
    assert_eq!(stats["processed"], 1, "{stats}");
    assert_eq!(stats["duplicates"], 4, "{stats}");
    assert_eq!(app.input(5).len(), 5);
    assert_eq!(app.output(1).len(), 1);
}

async fn spawn_app_with_burst() -> crate::helpers::TestApp {
    crate::helpers::spawn_app_with(|s| s.scenarios.burst_copies = 5).await
}

#[tokio::test]
async fn a_slow_consumer_builds_lag_and_catches_up() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.scenarios.slow_consumer_delay = Duration::from_millis(300);
    })
    .await;
    let response = app
        .client
        .put(app.url("/admin/faults/slow_consumer"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"enabled": true, "rate": 1.0}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let events: Vec<Value> = (0..20).map(|n| event(&format!("slow-{n}"))).collect();
    let response = app
        .post("/api/v1/events/batch", &json!({"events": events}))
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let lag: Value = app.get("/api/v1/consumer/lag").await.json().await.unwrap();
    assert!(lag["total"].as_i64().unwrap() >= 10, "{lag}");

    let response = app
        .client
        .delete(app.url("/admin/faults"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    app.wait_stat("processed", 20, Duration::from_secs(30))
        .await;
    let started = Instant::now();
    loop {
        let lag: Value = app.get("/api/v1/consumer/lag").await.json().await.unwrap();
        if lag["total"] == 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{lag}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_kits_latency_and_error_faults_apply() {
    let app = spawn_app().await;
    let request = || {
        app.client
            .post(app.url("/api/v1/events"))
            .json(&event("slow-http"))
    };
    assert_fault_headers_apply(request, StatusCode::ACCEPTED).await;

    let listed: Value = app
        .client
        .get(app.url("/admin/faults"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = listed.to_string();
    for name in ["slow_consumer", "poison_rate", "producer_burst"] {
        assert!(text.contains(name), "{text}");
    }
    app.wait_stat("processed", 1, Duration::from_secs(30)).await;
    assert_eq!(ids(&app.input(1)).keys().collect::<Vec<_>>(), ["slow-http"]);
    let _ = assert_problem;
}
