//! Runs every expectation of the loaded specs against the backends, each polled
//! until it passes or the one shared deadline comes, all concurrently; then the
//! zero-code check. Total runtime stays below `timeout` plus one request timeout.
//! An expectation that an active fault invalidates (`unless_faults`) is skipped.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::future::join_all;

use crate::attempt::{self, Attempt};
use crate::backend::BackendError;
use crate::kube::{self, InCluster};
use crate::prometheus::Prometheus;
use crate::report::{Outcome, Report, Verdict};
use crate::spec::{Check, Expectation, Spec};
use crate::traces::Traces;

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
    /// Faults switched on: expectations they invalidate are skipped.
    pub active_faults: Vec<String>,
    pub zero_code: ZeroCodeMode,
}

impl Config {
    /// The active fault that invalidates `expectation`, if any.
    fn invalidating_fault<'a>(&self, expectation: &'a Expectation) -> Option<&'a str> {
        expectation
            .unless_faults
            .iter()
            .find(|fault| self.active_faults.contains(fault))
            .map(String::as_str)
    }
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

/// Runs all specs and reports.
pub async fn run(config: &Config, specs: &[Spec]) -> Report {
    let started = Instant::now();
    let deadline = started + config.timeout;
    let to_run = || {
        specs
            .iter()
            .flat_map(|s| &s.expectations)
            .filter(|e| config.invalidating_fault(e).is_none())
    };
    let needs_prometheus = to_run().any(|e| matches!(e.check, Check::Metric(_)));
    let needs_traces = to_run().any(|e| !matches!(e.check, Check::Metric(_)));

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
            let invalidated = config.invalidating_fault(expectation);
            tasks.push(async move {
                if let Some(fault) = invalidated {
                    return Outcome {
                        spec: label,
                        name: expectation.name.clone(),
                        verdict: Verdict::Skip,
                        observed: format!(
                            "skipped: fault {fault:?} is on, which invalidates it (unless_faults)"
                        ),
                        query: String::new(),
                    };
                }
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
            attempt::metric(prometheus, metric, config.namespace.as_deref()).await
        }
        Check::Span(span) => {
            let traces = config.traces.as_ref().expect("checked before polling");
            attempt::span(traces, span).await
        }
        Check::TraceShape(shape) => {
            let traces = config.traces.as_ref().expect("checked before polling");
            attempt::shape(traces, shape).await
        }
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
