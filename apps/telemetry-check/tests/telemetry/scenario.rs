//! A scenario: a fixture loaded into fresh backends, and a run of the library
//! against them with a short deadline (the data is there before the run starts).

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
use crate::exposition::MetricsServer;
use crate::fixture::Telemetry;

/// Backend processes at once across all tests (two cores, shared).
pub fn slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| Semaphore::new(6))
}

/// A Prometheus that has scraped the fixture at least three times.
#[derive(Debug)]
pub struct LoadedPrometheus {
    pub process: Running,
    _server: MetricsServer,
}

pub async fn prometheus_with(t: &Telemetry) -> LoadedPrometheus {
    let server = MetricsServer::start(t.clone()).await;
    let process = backends::start_prometheus(&server.addr).await;
    server.wait_scrapes(3).await;
    // The last scrape is ingested a moment after it is served.
    tokio::time::sleep(Duration::from_millis(300)).await;
    LoadedPrometheus {
        process,
        _server: server,
    }
}

pub async fn jaeger_with(t: &Telemetry) -> Running {
    let (process, otlp_port) = backends::start_jaeger().await;
    crate::otlp::send(t, otlp_port, &process.url()).await;
    process
}

pub fn config(prometheus: &str, jaeger: &str, timeout: Duration) -> Config {
    let http = backend::client(Duration::from_secs(10));
    Config {
        prometheus: Some(Prometheus::new(http.clone(), prometheus)),
        traces: Some(Traces::Jaeger(Jaeger::new(http, jaeger))),
        timeout,
        interval: Duration::from_millis(500),
        namespace: Some(crate::fixture::NAMESPACE.into()),
        zero_code: ZeroCodeMode::Off,
    }
}

pub async fn check(spec: &Spec, prometheus: &str, jaeger: &str, timeout: Duration) -> Report {
    run::run(
        &config(prometheus, jaeger, timeout),
        std::slice::from_ref(spec),
    )
    .await
}
