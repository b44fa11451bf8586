//! [`Problems`], the middleware that gives every error an app answers the
//! problem+json shape, whoever raised it: poem (unknown route, wrong method,
//! unreadable body), poem-openapi (a parameter that does not parse, a missing bearer
//! token) or a handler. Answers that already are problem+json, and successes, pass
//! through unchanged.

use std::sync::Arc;

use poem::http::{StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use poem_openapi::error::{AuthorizationError, ParseParamError, ParsePathError};

use super::{CONTENT_TYPE, Problem};

/// Turns every error and every non-problem 4xx/5xx into problem+json.
///
/// A parameter that does not parse is a 400 `bad-parameter` naming it. poem-openapi
/// reports path parameters by position (`param0`); with the API's path templates
/// ([`Problems::with_paths`]) the problem names them as the document does (`id`).
#[derive(Debug, Clone)]
pub struct Problems {
    realm: Arc<str>,
    paths: Arc<[Template]>,
}

impl Problems {
    /// Problems for the app `realm` (the `WWW-Authenticate` realm of a missing token).
    pub fn new(realm: &str) -> Self {
        Self {
            realm: realm.into(),
            paths: Arc::new([]),
        }
    }

    /// Learns the API's path templates from its OpenAPI document (the keys of
    /// `paths`, e.g. `/api/v1/orders/{id}`).
    pub fn with_paths(mut self, openapi_json: &str) -> Self {
        let document: serde_json::Value = serde_json::from_str(openapi_json).unwrap_or_default();
        let templates: Vec<Template> = document["paths"]
            .as_object()
            .map(|paths| paths.keys().map(|path| Template::parse(path)).collect())
            .unwrap_or_default();
        self.paths = templates.into();
        self
    }

    /// The documented name of path parameter `internal` (`paramN`) in `path`.
    fn path_parameter<'a>(&'a self, path: &str, internal: &'a str) -> &'a str {
        let Some(index) = internal
            .strip_prefix("param")
            .and_then(|n| n.parse::<usize>().ok())
        else {
            return internal;
        };
        self.paths
            .iter()
            .filter(|template| template.matches(path))
            .find_map(|template| template.variables().nth(index))
            .unwrap_or(internal)
    }

    async fn problem_for(&self, path: &str, err: poem::Error) -> Response {
        if err.is_from_response() {
            return normalize(err.into_response()).await;
        }
        if let Some(param) = err.downcast_ref::<ParseParamError>() {
            return Problem::bad_parameter(param.name, param.reason.clone()).into_response();
        }
        if let Some(param) = err.downcast_ref::<ParsePathError>() {
            let name = self.path_parameter(path, param.name);
            return Problem::bad_parameter(name, param.reason.clone()).into_response();
        }
        if err.is::<AuthorizationError>() {
            return Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized")
                .with_detail("send `Authorization: Bearer <token>`")
                .with_header(
                    header::WWW_AUTHENTICATE,
                    format!("Bearer realm=\"{}\"", self.realm),
                )
                .into_response();
        }
        let status = err.status();
        if status.is_server_error() {
            tracing::error!(error = %err, "request failed");
            return Problem::status(status)
                .with_detail("the server failed to handle this request")
                .into_response();
        }
        Problem::status(status)
            .with_detail(err.to_string())
            .into_response()
    }
}

impl<E: Endpoint> Middleware<E> for Problems {
    type Output = ProblemsEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        ProblemsEndpoint {
            inner,
            problems: self.clone(),
        }
    }
}

/// The endpoint [`Problems`] wraps.
#[derive(Debug)]
pub struct ProblemsEndpoint<E> {
    inner: E,
    problems: Problems,
}

impl<E: Endpoint> Endpoint for ProblemsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let path = req.uri().path().to_owned();
        Ok(match self.inner.call(req).await {
            Ok(output) => normalize(output.into_response()).await,
            Err(err) => self.problems.problem_for(&path, err).await,
        })
    }
}

/// A problem for an error answer that is not one yet (its body, if any, becomes the
/// detail); anything else unchanged.
async fn normalize(response: Response) -> Response {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with(CONTENT_TYPE));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let detail = response.into_body().into_string().await.unwrap_or_default();
    let mut problem = Problem::status(status);
    if !detail.is_empty() {
        problem = problem.with_detail(detail);
    }
    problem.into_response()
}

/// One path template of the API, split into segments.
#[derive(Debug)]
struct Template(Vec<String>);

impl Template {
    fn parse(path: &str) -> Self {
        Self(
            path.split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    fn matches(&self, path: &str) -> bool {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        segments.len() == self.0.len()
            && self
                .0
                .iter()
                .zip(segments)
                .all(|(template, segment)| variable(template).is_some() || template == segment)
    }

    fn variables(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|segment| variable(segment))
    }
}

/// `id` for a template segment `{id}`.
fn variable(segment: &str) -> Option<&str> {
    segment.strip_prefix('{')?.strip_suffix('}')
}

#[cfg(test)]
mod tests {
    use poem::test::TestClient;
    use poem::{EndpointExt, Route, handler};
    use poem_openapi::param::{Path, Query};
    use poem_openapi::payload::PlainText;
    use poem_openapi::{OpenApi, OpenApiService};

    use super::*;

    #[handler]
    fn fine() -> &'static str {
        "fine"
    }

    #[handler]
    fn teapot() -> poem::Result<()> {
        Err(poem::Error::from_string(
            "short and stout",
            StatusCode::IM_A_TEAPOT,
        ))
    }

    #[handler]
    fn broken() -> poem::Result<()> {
        Err(poem::Error::from_string(
            "connection string with a password",
            StatusCode::INTERNAL_SERVER_ERROR,
        ))
    }

    #[handler]
    fn own_problem() -> Problem {
        Problem::new(StatusCode::CONFLICT, "taken", "Already taken").with_detail("sku 7")
    }

    struct Api;

    #[OpenApi]
    impl Api {
        #[oai(path = "/api/things/:thing/parts/:part", method = "get")]
        async fn part(&self, thing: Path<u32>, part: Path<u32>) -> PlainText<String> {
            PlainText(format!("{} {}", thing.0, part.0))
        }

        #[oai(path = "/api/things", method = "get")]
        async fn list(&self, limit: Query<Option<u32>>) -> PlainText<String> {
            PlainText(limit.0.unwrap_or(0).to_string())
        }
    }

    fn app() -> impl Endpoint {
        let api = OpenApiService::new(Api, "test", "1");
        let problems = Problems::new("test-app").with_paths(&api.spec());
        Route::new()
            .nest_no_strip("/api", api)
            .at("/ok", fine)
            .at("/teapot", teapot)
            .at("/broken", broken)
            .at("/own", own_problem)
            .with(problems)
    }

    #[tokio::test]
    async fn poem_errors_become_status_problems_with_their_message() {
        let client = TestClient::new(app());
        let response = client.get("/teapot").send().await;
        response.assert_status(StatusCode::IM_A_TEAPOT);
        response.assert_content_type(CONTENT_TYPE);
        let body = response.json().await;
        body.value()
            .object()
            .get("type")
            .assert_string("about:blank");
        body.value()
            .object()
            .get("detail")
            .assert_string("short and stout");
    }

    #[tokio::test]
    async fn a_server_error_does_not_leak_its_message() {
        let response = TestClient::new(app()).get("/broken").send().await;
        response.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
        let body = response.json().await;
        body.value()
            .object()
            .get("detail")
            .assert_string("the server failed to handle this request");
    }

    #[tokio::test]
    async fn an_unknown_route_is_a_problem_too() {
        let client = TestClient::new(app());
        let response = client.get("/nowhere").send().await;
        response.assert_status(StatusCode::NOT_FOUND);
        response.assert_content_type(CONTENT_TYPE);
    }

    #[tokio::test]
    async fn problems_and_successes_pass_through_unchanged() {
        let client = TestClient::new(app());
        let own = client.get("/own").send().await;
        own.assert_status(StatusCode::CONFLICT);
        own.json()
            .await
            .value()
            .object()
            .get("type")
            .assert_string("urn:obi-examples:problem:taken");
        let answer = client.get("/ok").send().await;
        answer.assert_status_is_ok();
        answer.assert_text("fine").await;
    }

    #[tokio::test]
    async fn a_bad_path_parameter_is_named_as_the_document_names_it() {
        let client = TestClient::new(app());
        let response = client.get("/api/things/7/parts/x").send().await;
        response.assert_status(StatusCode::BAD_REQUEST);
        let body = response.json().await;
        let body = body.value().object();
        body.get("type")
            .assert_string("urn:obi-examples:problem:bad-parameter");
        body.get("errors")
            .array()
            .get(0)
            .object()
            .get("field")
            .assert_string("part");
    }

    #[tokio::test]
    async fn a_bad_query_parameter_is_named() {
        let client = TestClient::new(app());
        let response = client
            .get("/api/things")
            .query("limit", &"ten")
            .send()
            .await;
        response.assert_status(StatusCode::BAD_REQUEST);
        response
            .json()
            .await
            .value()
            .object()
            .get("errors")
            .array()
            .get(0)
            .object()
            .get("field")
            .assert_string("limit");
    }

    #[test]
    fn templates_match_segment_by_segment() {
        let template = Template::parse("/api/v1/orders/{id}/items/{item}");
        assert!(template.matches("/api/v1/orders/7/items/x"));
        assert!(!template.matches("/api/v1/orders/7"));
        assert!(!template.matches("/api/v2/orders/7/items/x"));
        assert_eq!(template.variables().collect::<Vec<_>>(), ["id", "item"]);
        let problems = Problems::new("x");
        assert_eq!(problems.path_parameter("/a/b", "param0"), "param0");
        assert_eq!(problems.path_parameter("/a/b", "limit"), "limit");
    }
}
