//! The spec format's tests: what loads, and each mistake named by file and field.

use std::path::Path;

use super::*;

fn parse_text(text: &str) -> Result<Spec, SpecError> {
    parse(Path::new("charts/x/telemetry/http-rest-api.yaml"), text)
}

const GOOD: &str = r#"
app: http-rest-api
expectations:
  - name: requests are counted
    kind: metric
    query: sum(rate(http_server_request_duration_seconds_count[5m]))
    compare: "> 0"
  - name: server spans
    kind: span
    service: http-rest-api
    span_name: "GET /api/v1/products/{id}"
    span_kind: server
    attributes: { http.response.status_code: 200 }
  - name: stitched
    kind: trace_shape
    server: { service: http-rest-api, span_name_regex: "POST .*" }
    client: { span_name: "/inventory.v1.Inventory/Reserve" }
    remote: { service: grpc-microservice }
    min_share: 0.5
"#;

#[test]
fn a_spec_with_every_kind_loads() {
    let spec = parse_text(GOOD).unwrap();
    assert_eq!(spec.app, "http-rest-api");
    assert_eq!(spec.fault, None);
    assert_eq!(spec.expectations.len(), 3);
    let Check::Span(span) = &spec.expectations[1].check else {
        panic!("not a span check")
    };
    assert_eq!(span.selector.attributes["http.response.status_code"], "200");
    assert_eq!(span.window, DEFAULT_WINDOW);
    let Check::TraceShape(shape) = &spec.expectations[2].check else {
        panic!("not a shape check")
    };
    assert_eq!(shape.client.service, "http-rest-api");
    assert_eq!(shape.client.kind, Some(SpanKind::Client));
    assert!(shape.server.name.matches("POST /x"));
    assert!(!shape.server.name.matches("xPOST /x"));
}

#[test]
fn the_fault_comes_from_the_file_name_when_the_spec_does_not_say() {
    let spec = parse(Path::new("d/http-rest-api-latency.yaml"), GOOD).unwrap();
    assert_eq!(spec.fault.as_deref(), Some("latency"));
}

#[test]
fn an_unknown_field_is_named_with_its_path() {
    let text = GOOD.replace("compare: \"> 0\"", "compare: \"> 0\"\n    treshold: 3");
    let err = parse_text(&text).unwrap_err();
    assert_eq!(err.field, "expectations[0]", "{err}");
    assert!(err.message.contains("treshold"), "{err}");
    assert!(
        err.to_string()
            .starts_with("charts/x/telemetry/http-rest-api.yaml: ")
    );
}

#[test]
fn a_bad_comparison_is_named() {
    let err = parse_text(&GOOD.replace("\"> 0\"", "\"=> 0\"")).unwrap_err();
    assert_eq!(err.field, "expectations[0].compare");
}

#[test]
fn an_unknown_kind_is_named() {
    let err = parse_text(&GOOD.replace("kind: metric", "kind: metrics")).unwrap_err();
    assert!(err.field.starts_with("expectations[0]"), "{err}");
    assert!(err.message.contains("metrics"), "{err}");
}

#[test]
fn a_bad_regex_is_named() {
    let err = parse_text(&GOOD.replace("POST .*", "POST (")).unwrap_err();
    assert_eq!(err.field, "expectations[2].server.span_name_regex");
}

#[test]
fn duplicate_names_are_rejected() {
    let err = parse_text(&GOOD.replace("server spans", "requests are counted")).unwrap_err();
    assert_eq!(err.field, "expectations[1].name");
}

#[test]
fn a_share_above_one_is_rejected() {
    let err = parse_text(&GOOD.replace("min_share: 0.5", "min_share: 50")).unwrap_err();
    assert_eq!(err.field, "expectations[2].min_share");
}

#[test]
fn a_missing_field_is_reported() {
    let err = parse_text("app: x\nexpectations:\n  - name: a\n    kind: metric\n    query: up\n")
        .unwrap_err();
    assert!(err.message.contains("compare"), "{err}");
}

#[test]
fn a_window_shorter_than_four_export_intervals_fails_the_lint() {
    // kafka-streaming-slow_consumer once used [1m]: one sample at OBI's default
    // 60 s interval, so rate() returned nothing and "< 5.5" passed on nothing.
    let err = parse_text(&GOOD.replace("[5m]", "[1m]")).unwrap_err();
    assert_eq!(err.field, "expectations[0].query", "{err}");
    assert!(
        err.message
            .contains("[1m] spans less than 4 export intervals"),
        "{err}"
    );
    assert!(err.message.contains("4m"), "{err}");
    // With OBI's interval at 15 s (values/obi.yaml), one minute is enough.
    let options = LoadOptions {
        export_interval: Duration::from_secs(15),
        ..LoadOptions::default()
    };
    let text = GOOD.replace("[5m]", "[1m]");
    parse_with(Path::new("x/http-rest-api.yaml"), &text, &options).unwrap();
}

#[test]
fn hiding_no_data_behind_or_vector_fails_the_lint() {
    let text = GOOD.replace("[5m]))", "[5m])) or vector(0)");
    let err = parse_text(&text).unwrap_err();
    assert_eq!(err.field, "expectations[0].query", "{err}");
    assert!(err.message.contains("absent_ok"), "{err}");
}

const ABSENT: &str = r#"
app: http-rest-api
expectations:
  - name: server errors stay rare
    kind: metric
    query: sum(rate(http_server_request_duration_seconds_count{http_response_status_code=~"5.."}[5m]))
    ratio_to: sum(rate(http_server_request_duration_seconds_count[5m]))
    compare: "< 0.02"
    absent_ok: true
    unless_faults: [errors]
"#;

#[test]
fn absent_ok_needs_a_query_that_must_have_data_and_an_upper_bound() {
    let spec = parse_text(ABSENT).unwrap();
    let Check::Metric(metric) = &spec.expectations[0].check else {
        panic!("not a metric")
    };
    assert!(metric.absent_ok);
    assert_eq!(spec.expectations[0].unless_faults, ["errors"]);
    let without = ABSENT.replace(
        "    ratio_to: sum(rate(http_server_request_duration_seconds_count[5m]))\n",
        "",
    );
    let err = parse_text(&without).unwrap_err();
    assert_eq!(err.field, "expectations[0].absent_ok", "{err}");
    let companion = without.replace(
            "    absent_ok: true",
            "    absent_ok: true\n    companion: sum(rate(http_server_request_duration_seconds_count[5m]))",
        );
    parse_text(&companion).unwrap();
    let err = parse_text(&ABSENT.replace("\"< 0.02\"", "\"> 0\"")).unwrap_err();
    assert!(err.message.contains("lower"), "{err}");
}

#[test]
fn a_fault_spec_cannot_skip_itself() {
    let err = parse(Path::new("d/http-rest-api-errors.yaml"), ABSENT).unwrap_err();
    assert_eq!(err.field, "expectations[0].unless_faults", "{err}");
}

#[test]
fn fault_placeholders_are_filled_from_the_settings_or_reported_unresolved() {
    let text = GOOD
        .replace("[5m]))", "[5m])) / ${faults.errors.rate}")
        .replace(
            "http.response.status_code: 200",
            "http.response.status_code: \"${faults.errors.status}\"",
        );
    let spec = parse_text(&text).unwrap();
    assert_eq!(
        spec.unresolved,
        ["${faults.errors.rate}", "${faults.errors.status}"]
    );
    let options = LoadOptions {
        fault_settings: Some(serde_json::json!({"errors": {"rate": 0.1, "status": 503}})),
        ..LoadOptions::default()
    };
    let spec = parse_with(Path::new("x/http-rest-api.yaml"), &text, &options).unwrap();
    assert!(spec.unresolved.is_empty());
    let Check::Span(span) = &spec.expectations[1].check else {
        panic!("not a span check")
    };
    assert_eq!(span.selector.attributes["http.response.status_code"], "503");
    let options = LoadOptions {
        fault_settings: Some(serde_json::json!({})),
        ..LoadOptions::default()
    };
    let err = parse_with(Path::new("x/http-rest-api.yaml"), &text, &options).unwrap_err();
    assert_eq!(err.field, "(placeholders)");
}

#[test]
fn a_root_span_check_parses() {
    let text = GOOD.replace("    min_count: 1\n", "").replace(
        "    attributes: { http.response.status_code: 200 }",
        "    attributes: { http.response.status_code: 200 }\n    root: true",
    );
    let spec = parse_text(&text).unwrap();
    let Check::Span(span) = &spec.expectations[1].check else {
        panic!("not a span check")
    };
    assert!(span.root);
}

#[test]
fn a_bad_window_is_named() {
    let text = GOOD.replace("min_share: 0.5", "min_share: 0.5\n    window: soon");
    let err = parse_text(&text).unwrap_err();
    assert_eq!(err.field, "expectations[2].window");
}
