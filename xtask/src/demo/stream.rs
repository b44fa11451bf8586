//! Reading k6's live JSON output (`--out json=-`, one object per line) into
//! per-interval statistics: requests, latency percentiles and the error share.
//!
//! What counts: for HTTP apps each `http_req_duration` point is a request and
//! `http_req_failed` says whether it failed (the scripts mark their expected 4xx as
//! expected responses); for gRPC apps each `grpc_req_duration` point is a call and a
//! failed `checks` point is an error (an unexpected status, or an expected error
//! that did not come).

use std::time::Duration;

use serde::Deserialize;

use crate::apps::Protocol;

/// One point of k6's output that the table uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sample {
    /// A request or call took this many milliseconds.
    Latency(f64),
    /// An outcome: failed or not.
    Outcome { failed: bool },
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    metric: &'a str,
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    value: f64,
}

/// The metrics a protocol's rows are made of: (latency, outcome).
fn metrics(protocol: Protocol) -> (&'static str, &'static str) {
    match protocol {
        Protocol::Http => ("http_req_duration", "http_req_failed"),
        Protocol::Grpc => ("grpc_req_duration", "checks"),
    }
}

/// The sample in one line of k6's JSON output, if it is one the table uses. Lines
/// that are not JSON (k6's own messages) and other metrics are `None`.
pub fn parse_line(line: &str, protocol: Protocol) -> Option<Sample> {
    let (latency, outcome) = metrics(protocol);
    // Most points are other metrics (http_req_blocked, data_sent, ...): skip them
    // before parsing.
    if !line.contains(latency) && !line.contains(outcome) {
        return None;
    }
    let parsed: Line = serde_json::from_str(line).ok()?;
    let value = parsed.data?.value;
    if parsed.kind != "Point" {
        return None;
    }
    match (parsed.metric, protocol) {
        (m, _) if m == latency => Some(Sample::Latency(value)),
        ("http_req_failed", Protocol::Http) => Some(Sample::Outcome {
            failed: value != 0.0,
        }),
        ("checks", Protocol::Grpc) => Some(Sample::Outcome {
            failed: value == 0.0,
        }),
        _ => None,
    }
}

/// What one interval (or a whole run) measured.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Stats {
    /// Requests in the interval.
    pub requests: u64,
    /// Requests per second.
    pub rate: f64,
    /// Median latency, milliseconds (`None` without requests).
    pub p50_ms: Option<f64>,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: Option<f64>,
    /// Share of failed outcomes, 0.0 to 1.0 (`None` without outcomes).
    pub error_rate: Option<f64>,
}

/// Samples since the last [`Window::take`], plus running totals.
#[derive(Debug, Default)]
pub struct Window {
    latencies: Vec<f64>,
    outcomes: u64,
    failed: u64,
    /// Requests since the start.
    pub total_requests: u64,
    /// Failed outcomes since the start.
    pub total_failed: u64,
    /// Outcomes since the start.
    pub total_outcomes: u64,
}

impl Window {
    /// Adds one sample.
    pub fn record(&mut self, sample: Sample) {
        match sample {
            Sample::Latency(ms) => {
                self.latencies.push(ms);
                self.total_requests += 1;
            }
            Sample::Outcome { failed } => {
                self.outcomes += 1;
                self.total_outcomes += 1;
                if failed {
                    self.failed += 1;
                    self.total_failed += 1;
                }
            }
        }
    }

    /// The statistics of the samples since the last call, over `elapsed`, and a
    /// fresh interval.
    pub fn take(&mut self, elapsed: Duration) -> Stats {
        let mut latencies = std::mem::take(&mut self.latencies);
        latencies.sort_by(f64::total_cmp);
        let (outcomes, failed) = (self.outcomes, self.failed);
        (self.outcomes, self.failed) = (0, 0);
        let seconds = elapsed.as_secs_f64().max(f64::EPSILON);
        Stats {
            requests: latencies.len() as u64,
            rate: latencies.len() as f64 / seconds,
            p50_ms: percentile(&latencies, 0.50),
            p99_ms: percentile(&latencies, 0.99),
            error_rate: (outcomes > 0).then(|| failed as f64 / outcomes as f64),
        }
    }
}

/// The nearest-rank percentile `q` (0 < q ≤ 1) of sorted values.
fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    // Lines as k6 v1 writes them with `--out json=-`.
    const HTTP_DURATION: &str = r#"{"metric":"http_req_duration","type":"Point","data":{"time":"2026-12-03T01:40:00.1+00:00","value":3.25,"tags":{"expected_response":"true","method":"GET","name":"listProducts","status":"200"}}}"#;
    const HTTP_FAILED: &str = r#"{"metric":"http_req_failed","type":"Point","data":{"time":"2026-12-03T01:40:00.1+00:00","value":1,"tags":{"status":"500"}}}"#;
    const HTTP_DECLARATION: &str = r#"{"type":"Metric","data":{"name":"http_req_duration","type":"trend","contains":"time","thresholds":["p(95)<1000"],"submetrics":null},"metric":"http_req_duration"}"#;
    const GRPC_DURATION: &str = r#"{"metric":"grpc_req_duration","type":"Point","data":{"time":"2026-12-03T01:40:00.1+00:00","value":0.8,"tags":{"status":"0"}}}"#;
    const CHECK_FAILED: &str = r#"{"metric":"checks","type":"Point","data":{"time":"2026-12-03T01:40:00.1+00:00","value":0,"tags":{"check":"status is OK"}}}"#;

    #[test]
    fn http_points_become_latencies_and_outcomes() {
        assert_eq!(
            parse_line(HTTP_DURATION, Protocol::Http),
            Some(Sample::Latency(3.25))
        );
        assert_eq!(
            parse_line(HTTP_FAILED, Protocol::Http),
            Some(Sample::Outcome { failed: true })
        );
        assert_eq!(
            parse_line(
                &HTTP_FAILED.replace("\"value\":1", "\"value\":0"),
                Protocol::Http
            ),
            Some(Sample::Outcome { failed: false })
        );
    }

    #[test]
    fn grpc_calls_count_their_duration_and_failed_checks_as_errors() {
        assert_eq!(
            parse_line(GRPC_DURATION, Protocol::Grpc),
            Some(Sample::Latency(0.8))
        );
        assert_eq!(
            parse_line(CHECK_FAILED, Protocol::Grpc),
            Some(Sample::Outcome { failed: true })
        );
        // For HTTP apps a check is not an outcome: http_req_failed is.
        assert_eq!(parse_line(CHECK_FAILED, Protocol::Http), None);
    }

    #[test]
    fn declarations_other_metrics_and_text_are_ignored() {
        assert_eq!(parse_line(HTTP_DECLARATION, Protocol::Http), None);
        assert_eq!(parse_line(GRPC_DURATION, Protocol::Http), None);
        let blocked = HTTP_DURATION.replace("http_req_duration", "http_req_blocked");
        assert_eq!(parse_line(&blocked, Protocol::Http), None);
        assert_eq!(
            parse_line("running (0m10.0s), http_req_duration", Protocol::Http),
            None
        );
        assert_eq!(parse_line("", Protocol::Grpc), None);
    }

    #[test]
    fn an_interval_reports_rate_percentiles_and_errors_then_starts_afresh() {
        let mut window = Window::default();
        for ms in 1..=100 {
            window.record(Sample::Latency(f64::from(ms)));
            window.record(Sample::Outcome {
                failed: ms % 10 == 0,
            });
        }
        let stats = window.take(Duration::from_secs(4));
        assert_eq!(stats.requests, 100);
        assert_eq!(stats.rate, 25.0);
        assert_eq!(stats.p50_ms, Some(50.0));
        assert_eq!(stats.p99_ms, Some(99.0));
        assert_eq!(stats.error_rate, Some(0.1));

        let idle = window.take(Duration::from_secs(4));
        assert_eq!(idle.requests, 0);
        assert_eq!(
            (idle.p50_ms, idle.p99_ms, idle.error_rate),
            (None, None, None)
        );
        assert_eq!((window.total_requests, window.total_failed), (100, 10));
    }

    #[test]
    fn percentiles_of_few_samples_are_actual_samples() {
        assert_eq!(percentile(&[7.0], 0.99), Some(7.0));
        assert_eq!(percentile(&[1.0, 2.0], 0.5), Some(1.0));
        assert_eq!(percentile(&[1.0, 2.0], 0.99), Some(2.0));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
