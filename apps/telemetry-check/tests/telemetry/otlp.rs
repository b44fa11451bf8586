//! Sends the fixture's spans to Jaeger over OTLP/HTTP in the JSON encoding (hand
//! written: no OpenTelemetry crate anywhere), as OBI would, then waits until
//! Jaeger's query API lists every service.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::fixture::{Attr, COPIES, FSpan, NAMESPACE, Telemetry};

pub async fn send(telemetry: &Telemetry, otlp_port: u16, query_url: &str) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let mut by_service: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
    let mut next_id: u64 = 1;
    for copy in 0..COPIES {
        for (index, root) in telemetry.traces.iter().enumerate() {
            let trace_id = format!(
                "{:016x}{:016x}",
                copy + 1,
                index + 1 + (fastish(now) as usize)
            );
            flatten(root, &trace_id, "", &mut next_id, now, &mut by_service);
        }
    }
    let resource_spans: Vec<Value> = by_service
        .into_iter()
        .map(|(service, spans)| {
            json!({
                "resource": {"attributes": [
                    kv("service.name", &Attr::Str(service.clone())),
                    kv("service.namespace", &Attr::Str(NAMESPACE.into())),
                    kv("k8s.namespace.name", &Attr::Str(NAMESPACE.into())),
                    kv("telemetry.sdk.language", &Attr::Str("rust".into())),
                    kv("telemetry.distro.name", &Attr::Str("opentelemetry-ebpf-instrumentation".into())),
                ]},
                "scopeSpans": [{"scope": {"name": "github.com/open-telemetry/opentelemetry-ebpf-instrumentation"}, "spans": spans}]
            })
        })
        .collect();
    let body = json!({ "resourceSpans": resource_spans });
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{otlp_port}/v1/traces"))
        .json(&body)
        .send()
        .await
        .expect("OTLP export");
    assert!(
        response.status().is_success(),
        "OTLP export refused: {}",
        response.text().await.unwrap_or_default()
    );
    wait_for_services(query_url, &telemetry.services()).await;
}

/// Distinct trace ids per export (Jaeger keeps earlier ones in memory).
fn fastish(now: u128) -> u64 {
    (now % 1_000_000_007) as u64 * 1000
}

fn flatten(
    span: &FSpan,
    trace_id: &str,
    parent: &str,
    next_id: &mut u64,
    now: u128,
    out: &mut std::collections::BTreeMap<String, Vec<Value>>,
) {
    let span_id = format!("{:016x}", *next_id);
    *next_id += 1;
    let start = now - 50_000_000;
    out.entry(span.service.clone()).or_default().push(json!({
        "traceId": trace_id,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": span.name,
        "kind": span.kind,
        "startTimeUnixNano": start.to_string(),
        "endTimeUnixNano": (start + 10_000_000).to_string(),
        "attributes": span.attrs.iter().map(|(k, v)| kv(k, v)).collect::<Vec<_>>(),
        "status": {"code": if span.error { 2 } else { 0 }},
    }));
    for child in &span.children {
        flatten(child, trace_id, &span_id, next_id, now, out);
    }
}

fn kv(key: &str, value: &Attr) -> Value {
    match value {
        Attr::Str(s) => json!({"key": key, "value": {"stringValue": s}}),
        Attr::Int(i) => json!({"key": key, "value": {"intValue": i.to_string()}}),
    }
}

async fn wait_for_services(query_url: &str, services: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let http = reqwest::Client::new();
    loop {
        let listed: Value = http
            .get(format!("{query_url}/api/v3/services"))
            .send()
            .await
            .expect("jaeger services")
            .json()
            .await
            .expect("services JSON");
        let listed: Vec<&str> = listed["services"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if services.iter().all(|s| listed.contains(&s.as_str())) {
            // The batch is written at once; a short pause covers the index.
            tokio::time::sleep(Duration::from_millis(300)).await;
            return;
        }
        assert!(
            Instant::now() < deadline,
            "jaeger never listed {services:?} (has {listed:?})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
