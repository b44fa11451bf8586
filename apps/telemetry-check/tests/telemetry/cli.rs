//! The binary as the helm-test pod runs it: environment in, report and exit code
//! out (0 pass, 1 fail, 2 bad spec, 3 backend unreachable).

use std::process::Output;

use crate::backends::free_port;
use crate::fixture;
use crate::scenario::{self, slots};

const SPEC: &str = r#"
app: http-rest-api
expectations:
  - name: product reads are counted
    kind: metric
    query: sum(rate(http_server_request_duration_seconds_count{service_name="http-rest-api", http_route="/api/v1/products/{id}", service_namespace="${namespace}"}[5m]))
    compare: "> 0"
  - name: product read spans
    kind: span
    service: http-rest-api
    span_name: "GET /api/v1/products/{id}"
    span_kind: server
    attributes: { http.response.status_code: 200 }
"#;

async fn run_binary(spec: &str, envs: &[(&str, String)]) -> (Output, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("http-rest-api.yaml"), spec).unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_telemetry-check"))
        .env_clear()
        .env("TELEMETRY_CHECK_SPECS", dir.path())
        .env("TELEMETRY_CHECK_APP", "http-rest-api")
        .env("TELEMETRY_CHECK_NAMESPACE", fixture::NAMESPACE)
        .env("TELEMETRY_CHECK_TRACES_BACKEND", "jaeger")
        .env("TELEMETRY_CHECK_INTERVAL", "500ms")
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_passes_fails_and_reports_one_line_per_expectation() {
    let telemetry = fixture::app("http-rest-api", None).unwrap();
    let (prometheus, jaeger) = {
        let _slot = slots().acquire().await.unwrap();
        tokio::join!(
            scenario::prometheus_with(&telemetry),
            scenario::jaeger_with(&telemetry)
        )
    };
    let envs = [
        ("TELEMETRY_CHECK_PROMETHEUS_URL", prometheus.process.url()),
        ("TELEMETRY_CHECK_TRACES_URL", jaeger.url()),
        ("TELEMETRY_CHECK_TIMEOUT", "3s".to_owned()),
    ];
    let (output, text) = run_binary(SPEC, &envs).await;
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("PASS")).count(),
        2,
        "{text}"
    );
    assert!(text.contains("SKIP        [cluster] no pod of the release configures an OpenTelemetry exporter: skipped: not running in a Kubernetes pod"), "{text}");
    assert!(
        text.contains("summary: 2 passed, 0 failed, 1 skipped, 0 unreachable"),
        "{text}"
    );

    let wrong = SPEC.replace(
        "span_name: \"GET /api/v1/products/{id}\"",
        "span_name: \"GET /api/v1/nope\"",
    );
    let (output, text) = run_binary(&wrong, &envs).await;
    assert_eq!(output.status.code(), Some(1), "{text}");
    let failed: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(failed.len(), 1, "{text}");
    assert!(
        failed[0].contains("product read spans: observed 0 spans"),
        "{text}"
    );
    assert!(
        failed[0].contains("operation=\"GET /api/v1/nope\""),
        "{text}"
    );
}

#[tokio::test]
async fn an_unreachable_backend_exits_3_naming_its_url() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let envs = [
        ("TELEMETRY_CHECK_PROMETHEUS_URL", url.clone()),
        ("TELEMETRY_CHECK_TRACES_URL", url.clone()),
        ("TELEMETRY_CHECK_TIMEOUT", "2s".to_owned()),
    ];
    let started = std::time::Instant::now();
    let (output, text) = run_binary(SPEC, &envs).await;
    assert_eq!(output.status.code(), Some(3), "{text}");
    assert!(
        text.contains(&format!("UNREACHABLE Prometheus at {url}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("UNREACHABLE jaeger at {url}")),
        "{text}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "the deadline bounds the run"
    );
}

#[tokio::test]
async fn a_bad_spec_exits_2_naming_file_and_field() {
    let (output, text) = run_binary(&SPEC.replace("\"> 0\"", "\"≥ 0\""), &[]).await;
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(
        text.contains("http-rest-api.yaml: expectations[0].compare:"),
        "{text}"
    );
}

#[tokio::test]
async fn a_fault_without_a_spec_is_refused() {
    let (output, text) = run_binary(SPEC, &[("TELEMETRY_CHECK_FAULTS", "latency".into())]).await;
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(
        text.contains("fault \"latency\" has no spec file"),
        "{text}"
    );
}

#[tokio::test]
async fn a_window_too_short_for_the_export_interval_exits_2_unless_the_interval_is_shorter() {
    let short = SPEC.replace("[5m]", "[1m]");
    let (output, text) = run_binary(&short, &[]).await;
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(
        text.contains("expectations[0].query: [1m] spans less than 4 export intervals"),
        "{text}"
    );
    // Told that OBI exports every 15 s, one minute holds four intervals: the lint
    // passes and the run goes on (to an unreachable backend here).
    let url = format!("http://127.0.0.1:{}", free_port());
    let envs = [
        ("TELEMETRY_CHECK_EXPORT_INTERVAL", "15s".to_owned()),
        ("TELEMETRY_CHECK_PROMETHEUS_URL", url.clone()),
        ("TELEMETRY_CHECK_TRACES_URL", url),
        ("TELEMETRY_CHECK_TIMEOUT", "1s".to_owned()),
    ];
    let (output, text) = run_binary(&short, &envs).await;
    assert_eq!(output.status.code(), Some(3), "{text}");
}
