//! A scenario: a fixture loaded into fresh backends, and a run of the library
//! against them. The data is all there before the run starts, so each expectation
//! gets one attempt (retrying could not change its answer), bounded by a deadline
//! that only a slow answer on a loaded machine comes near.

use std::sync::OnceLock;
use std::time::Duration;

use telemetry_check::backend;
use telemetry_check::jaeger::Jaeger;
use telemetry_check::prometheus::Prometheus;
use telemetry_check::report::Report;
use telemetry_check::run::{self, Config, ZeroCodeMode};
use telemetry_check::spec::Spec;
use telemetry_check::traces::Traces;
use tokio::sync::Semaphore;

use crate::backends::{self, Running};
use crate::exposition;
use crate::fixture::Telemetry;

/// Backend processes at once across all tests (two cores, shared).
pub fn slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| Semaphore::new(6))
}

/// A Prometheus holding the fixture's metrics as a history up to now.
#[derive(Debug)]
pub struct LoadedPrometheus {
    pub process: Running,
}

pub async fn prometheus_with(t: &Telemetry) -> LoadedPrometheus {
    let history = exposition::openmetrics(t, std::time::SystemTime::now());
    LoadedPrometheus {
        process: backends::start_prometheus(&history).await,
    }
}

pub async fn jaeger_with(t: &Telemetry) -> Running {
    let (process, otlp_port) = backends::start_jaeger().await;
    crate::otlp::send(t, otlp_port, &process.url()).await;
    process
}

/// A run against these backends with `faults` switched on (expectations they
/// invalidate skip).
pub fn config_with_faults(
    prometheus: &str,
    jaeger: &str,
    timeout: Duration,
    faults: Vec<String>,
) -> Config {
    // Generous: the backends share two cores with the rest of the test suite.
    let http = backend::client(Duration::from_secs(30));
    Config {
        prometheus: Some(Prometheus::new(http.clone(), prometheus)),
        traces: Some(Traces::Jaeger(Jaeger::new(http, jaeger))),
        timeout,
        // As long as the deadline: one attempt per expectation.
        interval: timeout,
        namespace: Some(crate::fixture::NAMESPACE.into()),
        active_faults: faults,
        zero_code: ZeroCodeMode::Off,
    }
}

/// Runs `spec` with its own fault switched on, as the chart would.
pub async fn check(spec: &Spec, prometheus: &str, jaeger: &str, timeout: Duration) -> Report {
    check_with_faults(
        spec,
        spec.fault.iter().cloned().collect(),
        prometheus,
        jaeger,
        timeout,
    )
    .await
}

/// Runs `spec` with `faults` switched on.
pub async fn check_with_faults(
    spec: &Spec,
    faults: Vec<String>,
    prometheus: &str,
    jaeger: &str,
    timeout: Duration,
) -> Report {
    run::run(
        &config_with_faults(prometheus, jaeger, timeout, faults),
        std::slice::from_ref(spec),
    )
    .await
}
