//! The broker goes away during production and comes back: the app neither crashes
//! nor silently drops events — every 202 is in the input topic afterwards, every
//! failure was a 503, and the app recovers by itself. When the broker goes for good,
//! the app's drain still ends in bounded time.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::broker::PrivateBroker;
use crate::helpers::{Names, ids, read_topic, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_202_survives_a_broker_restart() {
    let mut broker = tokio::task::spawn_blocking(PrivateBroker::start)
        .await
        .unwrap();
    let names = Names::on(&broker.bootstrap());
    let mut app = start(names.clone(), |s| {
        s.kafka.message_timeout = Duration::from_secs(2);
        s.kafka.request_timeout = Duration::from_secs(1);
        s.worker.stop_timeout = Duration::from_secs(1);
    })
    .await;
    app.wait_ready(Duration::from_secs(60)).await;

    let mut acknowledged = HashSet::new();
    let mut unavailable = 0;
    let mut n = 0;
    let mut publish = async |acknowledged: &mut HashSet<String>, unavailable: &mut i32| {
        n += 1;
        let id = format!("o-{n}");
        let response = app.publish(&id).await;
        match response.status() {
            StatusCode::ACCEPTED => {
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["id"], id.as_str());
                acknowledged.insert(id);
            }
            StatusCode::SERVICE_UNAVAILABLE => *unavailable += 1,
            other => panic!("unexpected {other}"),
        }
    };
    for _ in 0..30 {
        publish(&mut acknowledged, &mut unavailable).await;
    }
    assert_eq!(unavailable, 0);

    broker = tokio::task::spawn_blocking(move || {
        broker.stop();
        broker
    })
    .await
    .unwrap();
    for _ in 0..3 {
        publish(&mut acknowledged, &mut unavailable).await;
    }
    assert!(
        unavailable >= 1,
        "publishing with the broker down answered 202"
    );
    // 503 well within the kubelet's 1 s probe timeout: the kit bounds the check
    // (500 ms), not the metadata request's `kafka.request_timeout`.
    let asked = Instant::now();
    let readiness = app.get("/readyz").await.status();
    let took = asked.elapsed();
    assert_eq!(readiness, StatusCode::SERVICE_UNAVAILABLE);
    assert!(took < Duration::from_millis(800), "/readyz took {took:?}");

    let restart = tokio::task::spawn_blocking(move || {
        broker.restart();
        broker
    });
    // Keep publishing while it comes back.
    let started = Instant::now();
    while !restart.is_finished() {
        publish(&mut acknowledged, &mut unavailable).await;
        assert!(started.elapsed() < Duration::from_secs(120));
    }
    let broker = restart.await.unwrap();
    app.wait_ready(Duration::from_secs(60)).await;
    // Recovered: publishing works again.
    let before = acknowledged.len();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.len() < before + 20 {
        publish(&mut acknowledged, &mut unavailable).await;
        assert!(Instant::now() < deadline, "publishing did not recover");
    }

    let bootstrap = broker.bootstrap();
    let topic = app.settings.kafka.input_topic.clone();
    let expected = acknowledged.len();
    let written = tokio::task::spawn_blocking(move || {
        read_topic(&bootstrap, &topic, expected, Duration::from_secs(30))
    })
    .await
    .unwrap();
    let written: HashSet<String> = ids(&written).into_keys().collect();
    let missing: Vec<_> = acknowledged.difference(&written).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not written: {missing:?}"
    );

    // The worker processed everything acknowledged, too.
    app.wait_stat("processed", expected as u64, Duration::from_secs(60))
        .await;

    // The broker goes first, then the app: its drain (in-flight messages, final
    // commit, producer flush) is bounded and does not hang on the missing broker.
    let broker = tokio::task::spawn_blocking(move || {
        let mut broker = broker;
        broker.stop();
        broker
    })
    .await
    .unwrap();
    let stopping = Instant::now();
    tokio::time::timeout(Duration::from_secs(30), app.stop())
        .await
        .expect("the drain hangs without the broker");
    let took = stopping.elapsed();
    eprintln!("drain without the broker took {took:?}");
    // drain_timeout (5 s in tests) for the producer's flush, 2 × stop_timeout (1 s).
    assert!(took < Duration::from_secs(15), "drain took {took:?}");
    drop(broker);
}
