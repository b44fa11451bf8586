//! At-least-once across a consumer restart: every acknowledged event is processed or
//! dead-lettered, counted by id, when the worker stops half-way and another takes over.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Names, event, ids, start};

#[tokio::test]
async fn no_event_is_lost_across_a_consumer_restart() {
    let names = Names::fresh();
    const N: usize = 200;
    let slow = |s: &mut kafka_streaming::settings::Settings| {
        s.scenarios.slow_consumer_delay = Duration::from_millis(5);
        s.faults.scenarios.get_mut("slow_consumer").unwrap().enabled = true;
    };
    let mut first = start(names.clone(), slow).await;
    first.wait_ready(Duration::from_secs(30)).await;
    let mut acknowledged = HashSet::new();
    let mut poisoned = HashSet::new();
    for chunk in 0..(N / 20) {
        let events: Vec<Value> = (0..20)
            .map(|n| event(&format!("r-{}", chunk * 20 + n)))
            .collect();
        let poison = chunk % 5 == 4;
        let mut request = first
            .client
            .post(first.url("/api/v1/events/batch"))
            .json(&json!({ "events": events }));
        if poison {
            request = request.header("x-fault-scenario", "poison_rate");
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let body: Value = response.json().await.unwrap();
        for accepted in body["accepted"].as_array().unwrap() {
            let id = accepted["id"].as_str().unwrap().to_owned();
            if poison {
                poisoned.insert(id.clone());
            }
            acknowledged.insert(id);
        }
    }
    assert_eq!(acknowledged.len(), N);
    // Stop the first worker part-way through.
    first
        .wait_stat("processed", 20, Duration::from_secs(30))
        .await;
    let done_first = first.stats().await;
    first.stop().await;

    let second = start(names.clone(), |_| {}).await;
    second.wait_ready(Duration::from_secs(30)).await;
    // The second worker takes over the group and drains the input topic.
    second.wait_no_lag(Duration::from_secs(120)).await;
    let expect_processed = N - poisoned.len();
    let output = second.output(expect_processed);
    let dead = second.dead_letters(poisoned.len());
    let processed = ids(&output);
    let dead_lettered = ids(&dead);
    let mut all: HashSet<String> = processed.keys().cloned().collect();
    all.extend(dead_lettered.keys().cloned());
    assert_eq!(all, acknowledged, "first worker: {done_first}");
    assert_eq!(processed.len(), expect_processed);
    assert_eq!(
        dead_lettered.keys().cloned().collect::<HashSet<_>>(),
        poisoned
    );
    names.cleanup();
}
