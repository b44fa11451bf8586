//! Probes: `/healthz` (liveness: the process answers; no dependency is called) and
//! `/readyz` (readiness: each backing service is checked and reported).
//!
//! A failing *required* check makes `/readyz` answer 503; a failing *optional* one
//! only marks the app `degraded` (it still serves, e.g. a cache falling back to its
//! origin). While draining, `/readyz` answers 503 so Kubernetes stops routing to us.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::{BoxFuture, join_all};
use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{EndpointExt, IntoResponse, Response, Route, get, handler};
use serde::Serialize;

use crate::problem::Problem;
use crate::shutdown::Shutdown;

type CheckFn = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

#[derive(Clone)]
struct Check {
    name: &'static str,
    required: bool,
    run: CheckFn,
}

/// The readiness checks of an app. Cheap to clone.
#[derive(Clone)]
pub struct Readiness {
    checks: Vec<Check>,
    timeout: Duration,
    shutdown: Shutdown,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.checks.iter().map(|check| check.name).collect();
        f.debug_struct("Readiness")
            .field("checks", &names)
            .finish_non_exhaustive()
    }
}

/// The overall state `/readyz` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every check passed.
    Ready,
    /// Only optional checks failed: the app serves with reduced function.
    Degraded,
    /// A required check failed.
    NotReady,
    /// Shutdown has started.
    Draining,
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// `up` or `down`.
    pub status: &'static str,
    /// Whether a failure makes the app not ready.
    pub required: bool,
    /// How long the check took.
    pub latency_ms: u64,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What `/readyz` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The overall state.
    pub status: Status,
    /// Each check by name.
    pub checks: BTreeMap<&'static str, CheckReport>,
}

impl Readiness {
    /// No checks yet; each check gets `timeout` to answer.
    pub fn new(shutdown: Shutdown, timeout: Duration) -> Self {
        Self {
            checks: Vec::new(),
            timeout,
            shutdown,
        }
    }

    /// Each check gets `timeout` to answer from now on.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Adds a check whose failure makes the app not ready.
    pub fn required<F, Fut>(self, name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.add(name, true, check)
    }

    /// Adds a check whose failure only marks the app degraded.
    pub fn optional<F, Fut>(self, name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.add(name, false, check)
    }

    fn add<F, Fut>(mut self, name: &'static str, required: bool, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let run: CheckFn = Arc::new(move || Box::pin(check()));
        self.checks.push(Check {
            name,
            required,
            run,
        });
        self
    }

    /// Runs every check concurrently, each bounded by the timeout.
    pub async fn report(&self) -> Report {
        let timeout = self.timeout;
        let results = join_all(self.checks.iter().map(|check| async move {
            let started = Instant::now();
            let outcome = match tokio::time::timeout(timeout, (check.run)()).await {
                Ok(outcome) => outcome,
                Err(_) => Err(format!("no answer within {}ms", timeout.as_millis())),
            };
            let report = CheckReport {
                status: if outcome.is_ok() { "up" } else { "down" },
                required: check.required,
                latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                error: outcome.err(),
            };
            (check.name, report)
        }))
        .await;
        let checks: BTreeMap<_, _> = results.into_iter().collect();
        let failed = |required: bool| {
            checks
                .values()
                .any(|check| check.required == required && check.error.is_some())
        };
        let status = if self.shutdown.is_triggered() {
            Status::Draining
        } else if failed(true) {
            Status::NotReady
        } else if failed(false) {
            Status::Degraded
        } else {
            Status::Ready
        };
        Report { status, checks }
    }
}

/// Mounts `/healthz` and `/readyz` on an app's routes: the one place every app's
/// probes are mounted (by `app::Builder`).
pub fn mount(routes: Route, readiness: Readiness) -> Route {
    routes
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz).data(readiness))
}

#[handler]
fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

#[handler]
async fn readyz(readiness: Data<&Readiness>) -> Response {
    let report = readiness.report().await;
    let status = match report.status {
        Status::Ready | Status::Degraded => StatusCode::OK,
        Status::NotReady | Status::Draining => StatusCode::SERVICE_UNAVAILABLE,
    };
    if status == StatusCode::OK {
        return Json(report).into_response();
    }
    tracing::warn!(?report, "not ready");
    // Every error of the app is problem+json; the report goes in as JSON members.
    let detail = match report.status {
        Status::Draining => "shutting down".to_owned(),
        _ => {
            let down: Vec<&str> = report
                .checks
                .iter()
                .filter(|(_, check)| check.required && check.error.is_some())
                .map(|(name, _)| *name)
                .collect();
            format!("required checks failing: {}", down.join(", "))
        }
    };
    Problem::new(status, "not-ready", "Not ready")
        .with_detail(detail)
        .with("status", report.status)
        .with("checks", &report.checks)
        .into_response()
}

#[cfg(test)]
mod tests {
    use poem::test::TestClient;

    use super::*;

    fn routes(readiness: Readiness) -> Route {
        mount(Route::new(), readiness)
    }

    fn readiness(shutdown: &Shutdown) -> Readiness {
        Readiness::new(shutdown.clone(), Duration::from_millis(50))
    }

    #[tokio::test]
    async fn liveness_calls_no_dependency() {
        let never = readiness(&Shutdown::new()).required("db", || async { panic!("called") });
        TestClient::new(routes(never))
            .get("/healthz")
            .send()
            .await
            .assert_status_is_ok();
    }

    #[tokio::test]
    async fn passing_checks_are_ready() {
        let ready = readiness(&Shutdown::new()).required("db", || async { Ok(()) });
        let response = TestClient::new(routes(ready)).get("/readyz").send().await;
        response.assert_status_is_ok();
        let json = response.json().await;
        json.value().object().get("status").assert_string("ready");
        json.value()
            .object()
            .get("checks")
            .object()
            .get("db")
            .object()
            .get("status")
            .assert_string("up");
    }

    #[tokio::test]
    async fn a_failing_required_check_is_not_ready_and_says_why() {
        let probe = readiness(&Shutdown::new())
            .required("db", || async { Err("connection refused".to_owned()) })
            .optional("cache", || async { Ok(()) });
        // Through the problem+json layer every app has: the report stays JSON, not a
        // string in `detail`.
        let app = routes(probe).with(crate::problem::Problems::new("test"));
        let response = TestClient::new(app).get("/readyz").send().await;
        response.assert_status(StatusCode::SERVICE_UNAVAILABLE);
        response.assert_content_type(crate::problem::CONTENT_TYPE);
        let json = response.json().await;
        json.value()
            .object()
            .get("status")
            .assert_string("not_ready");
        json.value()
            .object()
            .get("detail")
            .assert_string("required checks failing: db");
        json.value()
            .object()
            .get("checks")
            .object()
            .get("db")
            .object()
            .get("error")
            .assert_string("connection refused");
    }

    #[tokio::test]
    async fn a_failing_optional_check_is_degraded_but_serving() {
        let probe =
            readiness(&Shutdown::new()).optional("cache", || async { Err("down".to_owned()) });
        let report = probe.report().await;
        assert_eq!(report.status, Status::Degraded);
    }

    #[tokio::test]
    async fn a_hanging_check_times_out() {
        let probe = readiness(&Shutdown::new()).required("db", std::future::pending);
        let report = probe.report().await;
        assert_eq!(report.status, Status::NotReady);
        assert!(
            report.checks["db"]
                .error
                .as_deref()
                .unwrap()
                .contains("no answer")
        );
    }

    #[tokio::test]
    async fn draining_is_not_ready() {
        let shutdown = Shutdown::new();
        let probe = readiness(&shutdown).required("db", || async { Ok(()) });
        shutdown.trigger();
        let response = TestClient::new(routes(probe)).get("/readyz").send().await;
        response.assert_status(StatusCode::SERVICE_UNAVAILABLE);
        response
            .json()
            .await
            .value()
            .object()
            .get("status")
            .assert_string("draining");
    }
}
