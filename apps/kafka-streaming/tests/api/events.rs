//! Publishing: one event and batches round-trip through the worker to the output
//! topic; invalid events get 422 naming the field; bad JSON gets a 400 problem.

use std::time::Duration;

use rdkafka::Message;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, event, ids, spawn_app};

#[tokio::test]
async fn an_event_round_trips_to_the_output_topic() {
    let app = spawn_app().await;
    let response = app.publish("evt-1").await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["id"], "evt-1");
    assert_eq!(body["topic"], app.settings.kafka.input_topic.as_str());
    assert!(body["partition"].as_i64().unwrap() >= 0);
    assert!(body["offset"].as_i64().unwrap() >= 0);

    let generated: Value = app
        .post(
            "/api/v1/events",
            &json!({"type": "user.signed_up", "source": "tests", "payload": {}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let generated_id = generated["id"].as_str().unwrap().to_owned();
    assert_eq!(generated_id.len(), 32);

    app.wait_stat("processed", 2, Duration::from_secs(30)).await;
    let output = app.output(2);
    let seen = ids(&output);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen.contains_key("evt-1") && seen.contains_key(&generated_id));
    let result: Value = serde_json::from_slice(
        output
            .iter()
            .find(|r| r.key() == Some(b"evt-1".as_slice()))
            .unwrap()
            .payload()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(result["type"], "order.created");
    assert_eq!(result["fields"], 2);
    assert_eq!(result["attempts"], 1);

    // The worker commits: the lag drops to zero on every partition.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let lag: Value = app.get("/api/v1/consumer/lag").await.json().await.unwrap();
        assert_eq!(lag["partitions"].as_array().unwrap().len(), 2, "{lag}");
        if lag["total"] == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "lag stays {lag}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_batch_is_acknowledged_event_by_event() {
    let app = spawn_app().await;
    let events: Vec<Value> = (0..25).map(|n| event(&format!("b-{n}"))).collect();
    let response = app
        .post("/api/v1/events/batch", &json!({"events": events}))
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    let accepted = body["accepted"].as_array().unwrap();
    assert_eq!(accepted.len(), 25);
    assert_eq!(accepted[3]["id"], "b-3");
    app.wait_stat("processed", 25, Duration::from_secs(30))
        .await;
    assert_eq!(ids(&app.output(25)).len(), 25);

    // The same ids again: written again, processed once.
    let response = app
        .post("/api/v1/events/batch", &json!({"events": events}))
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    app.wait_stat("duplicates", 25, Duration::from_secs(30))
        .await;
    assert_eq!(app.stats().await["processed"], 25);
}

#[tokio::test]
async fn invalid_events_are_422_naming_the_field() {
    let app = spawn_app().await;
    let body = assert_problem(
        app.post("/api/v1/events", &json!({"source": "x", "payload": {}}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "type", "{body}");

    let body = assert_problem(
        app.post(
            "/api/v1/events",
            &json!({"id": "no spaces", "type": "Bad", "source": "", "payload": 3}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["id", "type", "source", "payload"]);

    let large = json!({"type": "a", "source": "s", "payload": {"blob": "x".repeat(70_000)}});
    let body = assert_problem(
        app.post("/api/v1/events", &large).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "payload");

    let body = assert_problem(
        app.post(
            "/api/v1/events/batch",
            &json!({"events": [event("ok"), {"type": "x", "payload": {}}]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "events[1].source", "{body}");

    for batch in [json!({"events": []}), json!({})] {
        let body = assert_problem(
            app.post("/api/v1/events/batch", &batch).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "events");
    }
    let many: Vec<Value> = (0..101).map(|n| event(&format!("m{n}"))).collect();
    assert_problem(
        app.post("/api/v1/events/batch", &json!({ "events": many }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;

    // Nothing invalid was written.
    assert_eq!(app.input(0).len(), 0);
}

#[tokio::test]
async fn malformed_json_and_unknown_routes_are_problems() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/events"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::BAD_REQUEST, "bad-body").await;
    let response = app
        .post(
            "/api/v1/events",
            &json!({"type": 5, "source": "s", "payload": {}}),
        )
        .await;
    // A number is not the string "5": refused, not coerced.
    let body = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
    assert_eq!(body["errors"][0]["field"], "type");
    assert_eq!(
        body["errors"][0]["message"],
        "must be a string, not a number"
    );
    let response = app
        .post(
            "/api/v1/events",
            &json!({"type": "a", "source": 5, "payload": {}}),
        )
        .await;
    let body = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
    assert_eq!(test_support::http::fields(&body), ["source"]);
    // Every field of the wrong type is named with the type expected.
    let response = app
        .post(
            "/api/v1/events",
            &json!({"type": "a", "source": {"x": 1}, "payload": {}}),
        )
        .await;
    let body = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
    assert_eq!(body["errors"][0]["field"], "source", "{body}");
    assert_eq!(
        body["errors"][0]["message"], "must be a string, not an object",
        "{body}"
    );
    let events = json!({"events": [{"type": "a", "source": "s", "payload": {}}, {"type": ["a"]}]});
    let response = app.post("/api/v1/events/batch", &events).await;
    let body = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
    assert_eq!(body["errors"][0]["field"], "events[1].type", "{body}");
    // A body that is no event object at all is a 400 bad-body.
    let response = app.post("/api/v1/events", &json!([1])).await;
    assert_problem(response, StatusCode::BAD_REQUEST, "bad-body").await;
    let response = app
        .post("/api/v1/events/batch", &json!({"events": []}))
        .await;
    let body = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
    assert_eq!(test_support::http::fields(&body), ["events"]);
    assert_problem(
        app.get("/api/v1/nothing").await,
        StatusCode::NOT_FOUND,
        "about:blank",
    )
    .await;
}
