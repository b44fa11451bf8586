//! The poem middleware that applies the fault model to every HTTP request: reads
//! the fault headers, sleeps the decided delay, answers with the decided error, and
//! hands the active scenarios to handlers as a request extension ([`Decision`]).

use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

use super::{Decision, Faults, headers};
use crate::problem::Problem;

/// Paths the fault model never touches: probes and the admin endpoint must keep
/// working while an app plays a fault.
const EXEMPT: &[&str] = &["/healthz", "/readyz", "/admin/"];

/// Applies [`Faults`] to every request except probes and admin calls.
#[derive(Debug, Clone)]
pub struct FaultMiddleware {
    faults: Faults,
}

impl FaultMiddleware {
    /// A middleware deciding with `faults`.
    pub fn new(faults: Faults) -> Self {
        Self { faults }
    }
}

impl<E: Endpoint> Middleware<E> for FaultMiddleware {
    type Output = FaultEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        FaultEndpoint {
            inner,
            faults: self.faults.clone(),
        }
    }
}

/// The endpoint [`FaultMiddleware`] wraps around an app.
#[derive(Debug)]
pub struct FaultEndpoint<E> {
    inner: E,
    faults: Faults,
}

impl<E: Endpoint> Endpoint for FaultEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let path = req.uri().path();
        if EXEMPT
            .iter()
            .any(|prefix| path == prefix.trim_end_matches('/') || path.starts_with(prefix))
        {
            return self.inner.call(req).await.map(IntoResponse::into_response);
        }
        let requested = match headers::parse(req.headers(), &self.faults) {
            Ok(requested) => requested,
            Err(err) if err.forbidden => {
                return Ok(Problem::new(
                    StatusCode::FORBIDDEN,
                    "fault-headers-forbidden",
                    "Fault headers need the admin token",
                )
                .with_detail(err.to_string())
                .with("header", err.header)
                .into_response());
            }
            Err(err) => {
                return Ok(Problem::new(
                    StatusCode::BAD_REQUEST,
                    "invalid-fault-header",
                    "Invalid fault header",
                )
                .with_detail(err.to_string())
                .with("header", err.header)
                .into_response());
            }
        };
        let decision = self.faults.decide(requested);
        if let Some(delay) = decision.delay {
            tokio::time::sleep(delay).await;
        }
        if let Some(status) = decision.error {
            tracing::debug!(%status, "answering with an injected error");
            return Ok(injected_error(status).into_response());
        }
        req.extensions_mut().insert(decision);
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}

/// The response for an injected error: problem+json that says it was on purpose.
pub fn injected_error(status: StatusCode) -> Problem {
    Problem::new(status, "injected-fault", "Injected fault").with_detail(format!(
        "the fault model answered this request with {status}"
    ))
}

/// The decision for the current request, for handlers: `None` outside the middleware.
pub fn decision(req: &Request) -> Option<&Decision> {
    req.extensions().get::<Decision>()
}

/// Whether the app's scenario `name` applies to the current request (what every
/// handler that plays a scenario asks).
pub fn is_active(req: &Request, name: &str) -> bool {
    decision(req).is_some_and(|decision| decision.is_active(name))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use poem::test::TestClient;
    use poem::{EndpointExt, Route, get, handler};

    use super::*;
    use crate::faults::{Catalog, ErrorFault, FaultSettings, ScenarioInfo};

    const CATALOG: Catalog = &[ScenarioInfo {
        name: "slow_query",
        description: "",
    }];

    #[handler]
    fn scenarios(req: &Request) -> String {
        let active = decision(req).map(|d| d.scenarios.iter().cloned().collect::<Vec<_>>());
        assert_eq!(
            is_active(req, "slow_query"),
            active.iter().flatten().any(|s| s == "slow_query")
        );
        active.unwrap_or_default().join(",")
    }

    fn app(settings: FaultSettings) -> TestClient<impl Endpoint> {
        let faults = Faults::new(settings, CATALOG).unwrap();
        faults.require_header_token("admin");
        let route = Route::new()
            .at("/work", get(scenarios))
            .at("/healthz", get(scenarios))
            .at("/admin/faults", get(scenarios));
        TestClient::new(route.with(FaultMiddleware::new(faults)))
    }

    fn with_headers() -> FaultSettings {
        FaultSettings {
            headers: true,
            ..FaultSettings::default()
        }
    }

    fn always_failing() -> FaultSettings {
        FaultSettings {
            errors: ErrorFault {
                enabled: true,
                rate: 1.0,
                status: 503,
            },
            ..FaultSettings::default()
        }
    }

    #[tokio::test]
    async fn requested_scenarios_reach_the_handler() {
        let response = app(with_headers())
            .get("/work")
            .header(headers::SCENARIO, "slow_query")
            .header(headers::TOKEN, "admin")
            .send()
            .await;
        response.assert_status_is_ok();
        response.assert_text("slow_query").await;
    }

    #[tokio::test]
    async fn an_injected_error_is_a_problem_saying_so() {
        let response = app(always_failing()).get("/work").send().await;
        response.assert_status(StatusCode::SERVICE_UNAVAILABLE);
        response.assert_content_type(crate::problem::CONTENT_TYPE);
        let json = response.json().await;
        json.value()
            .object()
            .get("type")
            .assert_string("urn:obi-examples:problem:injected-fault");
    }

    #[tokio::test]
    async fn probes_and_admin_calls_are_exempt() {
        let client = app(always_failing());
        client.get("/healthz").send().await.assert_status_is_ok();
        client
            .get("/admin/faults")
            .send()
            .await
            .assert_status_is_ok();
    }

    #[tokio::test]
    async fn a_bad_fault_header_is_a_400_naming_it() {
        let response = app(with_headers())
            .get("/work")
            .header(headers::ERROR, "teapot")
            .header(headers::TOKEN, "admin")
            .send()
            .await;
        response.assert_status(StatusCode::BAD_REQUEST);
        response
            .json()
            .await
            .value()
            .object()
            .get("header")
            .assert_string(headers::ERROR);
    }

    #[tokio::test]
    async fn a_fault_header_without_the_admin_token_is_a_403_and_does_nothing() {
        let client = app(with_headers());
        let response = client
            .get("/work")
            .header(headers::ERROR, "503")
            .send()
            .await;
        response.assert_status(StatusCode::FORBIDDEN);
        response
            .json()
            .await
            .value()
            .object()
            .get("type")
            .assert_string("urn:obi-examples:problem:fault-headers-forbidden");
        // Off by default: then a fault header is ignored, as if it were not there.
        let off = app(FaultSettings::default());
        let response = off.get("/work").header(headers::ERROR, "503").send().await;
        response.assert_status_is_ok();
    }

    #[tokio::test(start_paused = true)]
    async fn a_requested_delay_is_slept() {
        let client = app(with_headers());
        let started = tokio::time::Instant::now();
        client
            .get("/work")
            .header(headers::DELAY, "1500ms")
            .header(headers::TOKEN, "admin")
            .send()
            .await
            .assert_status_is_ok();
        assert!(started.elapsed() >= Duration::from_millis(1500));
    }
}
