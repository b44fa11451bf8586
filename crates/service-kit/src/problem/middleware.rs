//! [`Problems`], the middleware that gives every error an app answers the
//! problem+json shape, whoever raised it: poem (unknown route, wrong method,
//! unreadable body), poem-openapi (a parameter that does not parse, a missing bearer
//! token) or a handler. Answers that already are problem+json, and successes, pass
//! through unchanged.
//!
//! What poem-openapi says about a bad parameter or body is about its own types
//! (`failed to parse "integer(int64)"`); the problem says it in the API's words
//! instead, from the document: the parameter's name and what its schema admits.
//! A 405 lists the methods the path has in `Allow` (RFC 9110).

use std::sync::Arc;

use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use poem_openapi::error::{
    AuthorizationError, ParseMultipartError, ParseParamError, ParsePathError,
    ParseRequestPayloadError,
};
use serde_json::Value;

use super::paths::Template;
use super::{CONTENT_TYPE, Problem};

/// Turns every error and every non-problem 4xx/5xx into problem+json.
///
/// A parameter that does not parse is a 400 `bad-parameter` naming it. poem-openapi
/// reports path parameters by position (`param0`); with the API's document
/// ([`Problems::with_paths`]) the problem names them as the document does (`id`) and
/// says what the schema admits.
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

    /// Learns the API's paths from its OpenAPI document: each path template (the keys
    /// of `paths`, e.g. `/api/v1/orders/{id}`), its methods and what each of its
    /// parameters admits.
    pub fn with_paths(mut self, openapi_json: &str) -> Self {
        let document: Value = serde_json::from_str(openapi_json).unwrap_or_default();
        let mut templates: Vec<Template> = self.paths.to_vec();
        if let Some(paths) = document["paths"].as_object() {
            templates.extend(
                paths
                    .iter()
                    .map(|(path, item)| Template::from_document(path, item)),
            );
        }
        self.paths = templates.into();
        self
    }

    /// Adds routes outside the document (probes, admin) with their methods, so that a
    /// 405 there lists them too.
    pub fn with_routes(mut self, routes: &[(&str, &[&str])]) -> Self {
        let mut templates: Vec<Template> = self.paths.to_vec();
        for (path, methods) in routes {
            let mut template = Template::parse(path);
            template.methods = methods.iter().map(|m| (*m).to_owned()).collect();
            templates.push(template);
        }
        self.paths = templates.into();
        self
    }

    /// The `Allow` header of `path`: its methods, and `HEAD` wherever `GET` is.
    fn allow(&self, path: &str) -> Option<String> {
        let template = self
            .paths
            .iter()
            .find(|t| t.matches(path) && !t.methods.is_empty())?;
        let mut methods: Vec<String> = template.methods.iter().map(|m| m.to_uppercase()).collect();
        if methods.iter().any(|m| m == "GET") && !methods.iter().any(|m| m == "HEAD") {
            methods.push("HEAD".into());
        }
        Some(methods.join(", "))
    }

    /// What the parameter `name` of `path` admits, in the API's words.
    fn admits(&self, path: &str, name: &str) -> Option<&str> {
        self.paths
            .iter()
            .filter(|template| template.matches(path))
            .find_map(|template| {
                template
                    .parameters
                    .iter()
                    .find(|(parameter, _)| parameter == name)
                    .map(|(_, admits)| admits.as_str())
            })
    }

    /// The problem for parameter `name` of `path`, whose value poem-openapi refused
    /// for `reason`.
    fn bad_parameter(&self, path: &str, name: &str, reason: &str) -> Problem {
        let message = if reason.contains("expects an input value") {
            "is required".to_owned()
        } else {
            self.admits(path, name).map_or_else(
                || "has a value this API does not accept".to_owned(),
                str::to_owned,
            )
        };
        Problem::bad_parameter(name, message)
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
            return self
                .bad_parameter(path, param.name, &param.reason)
                .into_response();
        }
        if let Some(param) = err.downcast_ref::<ParsePathError>() {
            let name = self.path_parameter(path, param.name);
            return self
                .bad_parameter(path, name, &param.reason)
                .into_response();
        }
        if let Some(payload) = err.downcast_ref::<ParseRequestPayloadError>() {
            return bad_body(&payload.reason).into_response();
        }
        if let Some(multipart) = err.downcast_ref::<ParseMultipartError>() {
            return Problem::new(StatusCode::BAD_REQUEST, "bad-body", "Unreadable body")
                .with_detail(format!(
                    "the body is not the multipart form this operation takes: {}",
                    multipart.reason
                ))
                .into_response();
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
        // A clone of the URI shares its bytes (a reference count, no copy of the path).
        let uri = req.uri().clone();
        let path = uri.path();
        let mut response = match self.inner.call(req).await {
            Ok(output) => normalize(output.into_response()).await,
            Err(err) => self.problems.problem_for(path, err).await,
        };
        if response.status() == StatusCode::METHOD_NOT_ALLOWED
            && !response.headers().contains_key(header::ALLOW)
            && let Some(allow) = self.problems.allow(path)
            && let Ok(value) = HeaderValue::from_str(&allow)
        {
            response.headers_mut().insert(header::ALLOW, value);
        }
        Ok(response)
    }
}

/// 400 `bad-body`: the body is no JSON, or not the JSON object the operation takes.
/// (A field of the object that is wrong is the app's 422 naming it.)
fn bad_body(reason: &str) -> Problem {
    let detail = if reason.contains(" at line ") {
        // serde_json's own message: where the syntax broke.
        format!("the body is not valid JSON: {reason}")
    } else {
        "the body must be the JSON object this operation takes".to_owned()
    };
    Problem::new(StatusCode::BAD_REQUEST, "bad-body", "Unreadable body").with_detail(detail)
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
        async fn part(
            &self,
            #[oai(validator(minimum(value = "1")))] thing: Path<u32>,
            part: Path<u32>,
        ) -> PlainText<String> {
            PlainText(format!("{} {}", thing.0, part.0))
        }

        #[oai(path = "/api/things", method = "get")]
        async fn list(
            &self,
            #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<
                Option<u32>,
            >,
        ) -> PlainText<String> {
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

    #[tokio::test]
    async fn a_405_lists_the_methods_of_the_path() {
        let client = TestClient::new(app());
        let response = client.delete("/api/things").send().await;
        response.assert_status(StatusCode::METHOD_NOT_ALLOWED);
        response.assert_header(header::ALLOW, "GET, HEAD");
        response.assert_content_type(CONTENT_TYPE);
        let routes = Route::new()
            .at("/readyz", poem::get(fine))
            .with(Problems::new("x").with_routes(&[("/readyz", &["get"])]));
        let response = TestClient::new(routes).post("/readyz").send().await;
        response.assert_header(header::ALLOW, "GET, HEAD");
    }

    #[tokio::test]
    async fn a_bad_parameter_is_explained_from_its_schema_not_poem_openapi() {
        let client = TestClient::new(app());
        let response = client.get("/api/things").query("limit", &0).send().await;
        response.assert_status(StatusCode::BAD_REQUEST);
        let body = response.json().await;
        body.value()
            .object()
            .get("detail")
            .assert_string("`limit`: must be a whole number from 1 to 100");
        let response = client.get("/api/things/x/parts/1").send().await;
        let body = response.json().await;
        body.value()
            .object()
            .get("detail")
            .assert_string("`thing`: must be a whole number of at least 1");
    }

    #[tokio::test]
    async fn an_unreadable_body_is_a_bad_body_in_our_words() {
        let problem = bad_body("expected value at line 1 column 1");
        assert_eq!(problem.status, 400);
        assert!(
            problem
                .detail
                .unwrap()
                .starts_with("the body is not valid JSON")
        );
        let problem = bad_body(r#"failed to parse "Thing": Expected input type "object""#);
        assert_eq!(
            problem.detail.as_deref(),
            Some("the body must be the JSON object this operation takes")
        );
    }

    #[test]
    fn an_unknown_parameter_keeps_its_name() {
        let problems = Problems::new("x");
        assert_eq!(problems.path_parameter("/a/b", "param0"), "param0");
        assert_eq!(problems.path_parameter("/a/b", "limit"), "limit");
    }
}
