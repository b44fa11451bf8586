//! The worker keeps up: a topic filled beforehand (results to write, a poisoned
//! batch, a repeated batch) drains in a time a serial worker cannot reach, with every
//! event processed once, the poison dead-lettered and the offsets committed.
//!
//! The bound is not a speed measurement (that is `cargo xtask bench kafka-streaming`):
//! a worker awaiting each result's acknowledgement before the next message needs at
//! least the producer's `kafka.linger` per event — set to 5 ms here — so 15 s for the
//! 3 000 events,
//! plus the poison's retry backoff (30 ms each in tests); the pipelined worker needs
//! a fraction of that even as a debug build on a busy machine.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Names, event, ids, start};

const BATCHES: usize = 30;
const BATCH: usize = 100;
const BOUND: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filled_topic_drains_far_faster_than_a_serial_worker_could() {
    let names = Names::fresh();
    let mut api = start(names.clone(), |s| s.roles.worker = false).await;
    api.wait_ready(Duration::from_secs(30)).await;
    let batch = |n: usize| -> Value {
        let events: Vec<Value> = (0..BATCH)
            .map(|i| event(&format!("k-{}", n * BATCH + i)))
            .collect();
        json!({ "events": events })
    };
    let post = |body: Value, poison: bool| {
        let mut request = api.client.post(api.url("/api/v1/events/batch")).json(&body);
        if poison {
            request = request.header("x-fault-scenario", "poison_rate");
        }
        request.send()
    };
    // The event batches, then batch 0 again (duplicates) and a poisoned batch.
    let mut requests: Vec<_> = (0..BATCHES).map(|n| post(batch(n), false)).collect();
    requests.push(post(batch(0), false));
    requests.push(post(batch(BATCHES), true));
    let responses = join_all(requests).await;
    for response in responses {
        assert_eq!(response.unwrap().status(), StatusCode::ACCEPTED);
    }
    api.stop().await;
    let events = (BATCHES * BATCH) as u64;

    let worker = start(names.clone(), |s| {
        s.roles.api = false;
        s.kafka.linger = Duration::from_millis(5);
    })
    .await;
    worker.wait_ready(Duration::from_secs(30)).await;
    // From the first result on (joining the group is not the worker's speed).
    worker
        .wait_stat("processed", 1, Duration::from_secs(30))
        .await;
    let started = Instant::now();
    let stats = worker.wait_stat("processed", events, BOUND).await;
    let drained = started.elapsed();
    let stats = if stats["dead_lettered"].as_u64() < Some(BATCH as u64) {
        worker
            .wait_stat("dead_lettered", BATCH as u64, BOUND.saturating_sub(drained))
            .await
    } else {
        stats
    };
    eprintln!("{events} events drained in {drained:?}: {stats}");
    assert_eq!(stats["processed"], events, "{stats}");
    assert_eq!(stats["duplicates"], BATCH as u64, "{stats}");

    // Every event once in the output topic, the poison in the dead-letter topic.
    let output = worker.output(BATCHES * BATCH);
    let processed = ids(&output);
    assert_eq!(processed.len(), BATCHES * BATCH);
    assert!(
        processed.values().all(|n| *n == 1),
        "a result written twice"
    );
    let dead: HashSet<String> = ids(&worker.dead_letters(BATCH)).into_keys().collect();
    assert_eq!(dead.len(), BATCH);

    // And the offsets committed up to the end: no lag left.
    worker.wait_no_lag(Duration::from_secs(10)).await;
    drop(worker);
    names.cleanup();
}
