//! Runs every expectation of the loaded specs against the backends, each polled
//! until it passes or the one shared deadline comes, all concurrently; then the
//! zero-code check. Total runtime stays below `timeout` plus one request timeout.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::future::join_all;

use crate::backend::BackendError;
use crate::kube::{self, InCluster};
use crate::prometheus::Prometheus;
use crate::report::{Outcome, Report, Verdict};
use crate::spans;
use crate::spec::{Check, Expectation, MetricCheck, ShapeCheck, SpanCheck, Spec};
use crate::traces::{Traces, Window};

/// Everything a run needs besides the specs.
#[derive(Debug, Clone)]
pub struct Config {
    pub prometheus: Option<Prometheus>,
    pub traces: Option<Traces>,
    /// The deadline for the whole run, from its start.
    pub timeout: Duration,
    /// Pause between two attempts of one expectation.
    pub interval: Duration,
    /// Substituted for `${namespace}` in metric queries.
    pub namespace: Option<String>,
    pub zero_code: ZeroCodeMode,
}

/// Whether and how to run the zero-code check.
#[derive(Debug, Clone)]
pub enum ZeroCodeMode {
    Off,
    /// Run it in a pod, report "skipped" outside one.
    Auto {
        service_account_dir: PathBuf,
        pod_selector: String,
    },
}

/// One try at an expectation.
#[derive(Debug)]
struct Attempt {
    passed: bool,
    observed: String,
    query: String,
    error: Option<BackendError>,
}

impl Attempt {
    fn failed(query: String, error: BackendError) -> Self {
        Attempt {
            passed: false,
            observed: error.to_string(),
            query,
            error: Some(error),
        }
    }
}

/// Runs all specs and reports.
pub async fn run(config: &Config, specs: &[Spec]) -> Report {
    let started = Instant::now();
    let deadline = started + config.timeout;
    let needs_prometheus = specs
        .iter()
        .flat_map(|s| &s.expectations)
        .any(|e| matches!(e.check, Check::Metric(_)));
    let needs_traces = specs
        .iter()
        .flat_map(|s| &s.expectations)
        .any(|e| !matches!(e.check, Check::Metric(_)));

    let mut unreachable = Vec::new();
    let mut prometheus_ok = true;
    let mut traces_ok = true;
    if needs_prometheus {
        match &config.prometheus {
            None => unreachable.push("no Prometheus URL given (TELEMETRY_CHECK_PROMETHEUS_URL) but metric expectations exist".into()),
            Some(p) => {
                if let Err(err) = until_reachable(deadline, config.interval, || p.probe()).await {
                    prometheus_ok = false;
                    unreachable.push(format!("Prometheus at {}: {err}", p.base()));
                }
            }
        }
    }
    if needs_traces {
        match &config.traces {
            None => unreachable.push("no trace backend URL given (TELEMETRY_CHECK_TRACES_URL) but span expectations exist".into()),
            Some(t) => {
                if let Err(err) = until_reachable(deadline, config.interval, || t.probe()).await {
                    traces_ok = false;
                    unreachable.push(format!("{} at {}: {err}", t.kind(), t.base()));
                }
            }
        }
    }

    let mut tasks = Vec::new();
    for spec in specs {
        let label = match &spec.fault {
            Some(fault) => format!("{}/{fault}", spec.app),
            None => spec.app.clone(),
        };
        for expectation in &spec.expectations {
            let backend_ok = match expectation.check {
                Check::Metric(_) => prometheus_ok && config.prometheus.is_some(),
                _ => traces_ok && config.traces.is_some(),
            };
            let label = label.clone();
            tasks.push(async move {
                if !backend_ok {
                    return Outcome {
                        spec: label,
                        name: expectation.name.clone(),
                        verdict: Verdict::Skip,
                        observed: "not run: its backend is unreachable".into(),
                        query: String::new(),
                    };
                }
                poll(config, expectation, deadline, label).await
            });
        }
    }
    let mut outcomes = join_all(tasks).await;
    if let Some(outcome) = zero_code(config).await {
        outcomes.push(outcome);
    }
    Report {
        outcomes,
        unreachable,
        elapsed: started.elapsed(),
        timeout: config.timeout,
    }
}

/// Retries a probe while the backend is unreachable and time remains.
async fn until_reachable<F, Fut>(
    deadline: Instant,
    interval: Duration,
    probe: F,
) -> Result<(), BackendError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), BackendError>>,
{
    loop {
        match probe().await {
            Ok(()) => return Ok(()),
            Err(err) if err.is_unreachable() && Instant::now() + interval < deadline => {
                tokio::time::sleep(interval).await;
            }
            Err(err) => return Err(err),
        }
    }
}

async fn poll(
    config: &Config,
    expectation: &Expectation,
    deadline: Instant,
    spec: String,
) -> Outcome {
    loop {
        let remaining = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_secs(1));
        let attempt =
            match tokio::time::timeout(remaining, attempt(config, &expectation.check)).await {
                Ok(attempt) => attempt,
                Err(_) => Attempt {
                    passed: false,
                    observed: "no answer before the deadline".into(),
                    query: String::new(),
                    error: None,
                },
            };
        let rejected = matches!(attempt.error, Some(BackendError::Rejected { .. }));
        if attempt.passed || rejected || Instant::now() + config.interval >= deadline {
            let verdict = match (&attempt.error, attempt.passed) {
                (_, true) => Verdict::Pass,
                (Some(err), _) if err.is_unreachable() => Verdict::Unreachable,
                _ => Verdict::Fail,
            };
            return Outcome {
                spec,
                name: expectation.name.clone(),
                verdict,
                observed: attempt.observed,
                query: attempt.query,
            };
        }
        tokio::time::sleep(config.interval).await;
    }
}

async fn attempt(config: &Config, check: &Check) -> Attempt {
    match check {
        Check::Metric(metric) => {
            let prometheus = config.prometheus.as_ref().expect("checked before polling");
            metric_attempt(prometheus, metric, config.namespace.as_deref()).await
        }
        Check::Span(span) => {
            let traces = config.traces.as_ref().expect("checked before polling");
            span_attempt(traces, span).await
        }
        Check::TraceShape(shape) => {
            let traces = config.traces.as_ref().expect("checked before polling");
            shape_attempt(traces, shape).await
        }
    }
}

/// `${namespace}` in a query becomes the configured namespace.
pub fn expand(query: &str, namespace: Option<&str>) -> Result<String, String> {
    match namespace {
        Some(namespace) => Ok(query.replace("${namespace}", namespace)),
        None if query.contains("${namespace}") => Err(
            "the query uses ${namespace} but no namespace was given (TELEMETRY_CHECK_NAMESPACE)"
                .into(),
        ),
        None => Ok(query.to_owned()),
    }
}

async fn metric_attempt(
    prometheus: &Prometheus,
    metric: &MetricCheck,
    namespace: Option<&str>,
) -> Attempt {
    let shown = match &metric.ratio_to {
        Some(ratio_to) => format!("({}) / ({})", metric.query, ratio_to),
        None => metric.query.clone(),
    };
    let expand = |q: &str| {
        expand(q, namespace).map_err(|message| BackendError::Rejected {
            url: prometheus.base().to_owned(),
            message,
        })
    };
    let query = match expand(&metric.query) {
        Ok(query) => query,
        Err(err) => return Attempt::failed(shown, err),
    };
    let numerator = match prometheus.query_sum(&query).await {
        Ok(sample) => sample,
        Err(err) => return Attempt::failed(shown, err),
    };
    let (value, observed) = match &metric.ratio_to {
        None => (
            numerator.value,
            format!("{} ({} series)", number(numerator.value), numerator.series),
        ),
        Some(ratio_to) => {
            let ratio_to = match expand(ratio_to) {
                Ok(query) => query,
                Err(err) => return Attempt::failed(shown, err),
            };
            let denominator = match prometheus.query_sum(&ratio_to).await {
                Ok(sample) => sample,
                Err(err) => return Attempt::failed(shown, err),
            };
            let value = if denominator.value == 0.0 {
                f64::NAN
            } else {
                numerator.value / denominator.value
            };
            (
                value,
                format!(
                    "{} = {} / {} ({} / {} series)",
                    number(value),
                    number(numerator.value),
                    number(denominator.value),
                    numerator.series,
                    denominator.series
                ),
            )
        }
    };
    Attempt {
        passed: metric.compare.holds(value),
        observed: format!("observed {observed}, expected {}", metric.compare),
        query: shown,
        error: None,
    }
}

async fn span_attempt(traces: &Traces, span: &SpanCheck) -> Attempt {
    match traces
        .count_spans(&span.selector, Window::last(span.window))
        .await
    {
        Ok((count, query)) => Attempt {
            passed: count >= span.min_count,
            observed: format!(
                "observed {count} spans in the last {}, expected >= {}",
                humantime::format_duration(span.window),
                span.min_count
            ),
            query,
            error: None,
        },
        Err(err) => Attempt::failed(format!("{} {}", traces.kind(), span.selector), err),
    }
}

async fn shape_attempt(traces: &Traces, shape: &ShapeCheck) -> Attempt {
    match traces
        .traces_with(&shape.server, Window::last(shape.window))
        .await
    {
        Ok((found, query)) => {
            let result = spans::evaluate_shape(shape, &found);
            let remote = shape
                .remote
                .as_ref()
                .map(|r| format!(" -> SERVER {r}"))
                .unwrap_or_default();
            Attempt {
                passed: result.passes(shape),
                observed: format!(
                    "stitched {}/{} traces ({:.1}%), expected >= {:.1}% of >= {} traces",
                    result.stitched,
                    result.traces,
                    result.share() * 100.0,
                    shape.min_share * 100.0,
                    shape.min_traces
                ),
                query: format!(
                    "{query} | shape: SERVER {} -> >= {} CLIENT {}{remote}",
                    shape.server, shape.min_children, shape.client
                ),
                error: None,
            }
        }
        Err(err) => Attempt::failed(format!("{} {}", traces.kind(), shape.server), err),
    }
}

async fn zero_code(config: &Config) -> Option<Outcome> {
    let ZeroCodeMode::Auto {
        service_account_dir,
        pod_selector,
    } = &config.zero_code
    else {
        return None;
    };
    let name = "no pod of the release configures an OpenTelemetry exporter".to_owned();
    let query = format!("kubernetes: list pods labelSelector={pod_selector:?}");
    let outcome = |verdict, observed: String| Outcome {
        spec: "cluster".into(),
        name: name.clone(),
        verdict,
        observed,
        query: query.clone(),
    };
    let cluster = match InCluster::detect(service_account_dir) {
        Ok(cluster) => cluster,
        Err(reason) => return Some(outcome(Verdict::Skip, format!("skipped: {reason}"))),
    };
    let Some(namespace) = &config.namespace else {
        return Some(outcome(
            Verdict::Fail,
            "no namespace given (TELEMETRY_CHECK_NAMESPACE)".into(),
        ));
    };
    let pods = match cluster
        .list_pods(namespace, pod_selector, Duration::from_secs(20))
        .await
    {
        Ok(pods) => pods,
        Err(reason) => return Some(outcome(Verdict::Fail, reason)),
    };
    let found = kube::inspect(&pods);
    let note = if found.env_from_sources > 0 {
        format!(
            " ({} envFrom sources not inspected)",
            found.env_from_sources
        )
    } else {
        String::new()
    };
    Some(if found.pods == 0 {
        outcome(
            Verdict::Fail,
            format!("no pod in {namespace} matches the selector"),
        )
    } else if found.violations.is_empty() {
        outcome(
            Verdict::Pass,
            format!(
                "{} pods, no OTEL_EXPORTER_*/OTEL_*_EXPORTER variables{note}",
                found.pods
            ),
        )
    } else {
        outcome(
            Verdict::Fail,
            format!(
                "exporter settings found: {}{note}",
                found.violations.join(", ")
            ),
        )
    })
}

fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value == value.trunc() && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_namespace_placeholder_is_filled_or_refused() {
        assert_eq!(
            expand("up{ns=\"${namespace}\"}", Some("demo")).unwrap(),
            "up{ns=\"demo\"}"
        );
        assert_eq!(expand("up", None).unwrap(), "up");
        assert!(
            expand("up{ns=\"${namespace}\"}", None)
                .unwrap_err()
                .contains("TELEMETRY_CHECK_NAMESPACE")
        );
    }

    #[test]
    fn numbers_print_short() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.123456), "0.1235");
        assert_eq!(number(f64::NAN), "NaN");
    }
}
