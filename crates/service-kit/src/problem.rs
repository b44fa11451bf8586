//! RFC 9457 problem details (`application/problem+json`): the one shape every
//! client-visible error of our HTTP apps takes.

use poem::http::{StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use serde::Serialize;
use serde_json::{Map, Value};

/// The media type of a problem document.
pub const CONTENT_TYPE: &str = "application/problem+json";

/// A problem document. Build one with [`Problem::new`] and the `with_*` methods.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// A URI naming the kind of problem (`about:blank` when the status says it all).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short, human-readable summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Extension members, e.g. `errors: [{field, message}]`.
    #[serde(flatten)]
    pub extensions: Map<String, Value>,
    #[serde(skip)]
    headers: Vec<(header::HeaderName, String)>,
}

impl Problem {
    /// A problem of kind `slug` (a stable identifier, documented in the app's docs).
    pub fn new(status: StatusCode, slug: &str, title: impl Into<String>) -> Self {
        Self {
            kind: format!("urn:obi-examples:problem:{slug}"),
            title: title.into(),
            status: status.as_u16(),
            detail: None,
            extensions: Map::new(),
            headers: Vec::new(),
        }
    }

    /// A problem that only its status describes (`type: about:blank`).
    pub fn status(status: StatusCode) -> Self {
        Self {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: None,
            extensions: Map::new(),
            headers: Vec::new(),
        }
    }

    /// Adds the request-specific explanation.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Adds an extension member.
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.extensions.insert(key.to_owned(), value);
        self
    }

    /// Adds a response header (`Retry-After`, `WWW-Authenticate`, ...).
    pub fn with_header(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The status as a [`StatusCode`].
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut builder = Response::builder()
            .status(self.status_code())
            .header(header::CONTENT_TYPE, CONTENT_TYPE);
        for (name, value) in self.headers {
            builder = builder.header(name, value);
        }
        builder.body(body)
    }
}

// The problem document as the apps' OpenAPI documents describe it (schema
// `Problem`), for the `Json<ProblemDoc>` bodies of their error responses; its doc
// comments are the schema's descriptions.
/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Eq, poem_openapi::Object)]
#[oai(rename = "Problem", skip_serializing_if_is_none)]
pub struct ProblemDoc {
    /// `urn:obi-examples:problem:<kind>`.
    #[oai(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: Option<String>,
    /// Invalid fields, for `validation` problems.
    pub errors: Option<Vec<FieldProblem>>,
}

/// One invalid field.
#[derive(Debug, Clone, PartialEq, Eq, poem_openapi::Object)]
pub struct FieldProblem {
    /// JSON path of the field.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl ProblemDoc {
    /// A problem of kind `slug` (`urn:obi-examples:problem:<slug>`), as a JSON body.
    pub fn json(
        slug: &str,
        title: &str,
        status: u16,
        detail: Option<String>,
    ) -> poem_openapi::payload::Json<Self> {
        poem_openapi::payload::Json(Self {
            kind: format!("urn:obi-examples:problem:{slug}"),
            title: title.to_owned(),
            status,
            detail,
            errors: None,
        })
    }
}

/// An `around` middleware that turns the errors poem answers by itself (unknown
/// route, wrong method, unparsable body or parameter, ...) into problem documents,
/// so that every 4xx and 5xx of an app is problem+json. Answers that already are
/// problem+json, and successes, pass through unchanged.
///
/// ```ignore
/// Route::new().nest("/api", api).around(service_kit::problem::problem_errors)
/// ```
pub async fn problem_errors<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let response = match next.call(req).await {
        Ok(response) => response.into_response(),
        Err(err) => err.into_response(),
    };
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with(CONTENT_TYPE));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return Ok(response);
    }
    let detail = response.into_body().into_string().await.unwrap_or_default();
    let mut problem = Problem::status(status);
    if !detail.is_empty() {
        problem = problem.with_detail(detail);
    }
    Ok(problem.into_response())
}

#[cfg(test)]
mod tests {
    use poem::test::TestClient;
    use poem::{EndpointExt, Route, handler};

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
    fn own_problem() -> Problem {
        Problem::new(StatusCode::CONFLICT, "taken", "Already taken").with_detail("sku 7")
    }

    fn app() -> impl Endpoint {
        Route::new()
            .at("/ok", fine)
            .at("/teapot", teapot)
            .at("/own", own_problem)
            .around(problem_errors)
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
    async fn a_problem_renders_as_problem_json_with_its_headers() {
        let response = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
        )
        .with_detail("slow down")
        .with("retry_after_seconds", 3)
        .with_header(header::RETRY_AFTER, "3")
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::CONTENT_TYPE], CONTENT_TYPE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "3");
        let body: Value =
            serde_json::from_slice(&response.into_body().into_bytes().await.unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "type": "urn:obi-examples:problem:rate-limited",
                "title": "Too many requests",
                "status": 429,
                "detail": "slow down",
                "retry_after_seconds": 3,
            })
        );
    }

    #[test]
    fn a_status_problem_is_about_blank_with_the_reason_phrase() {
        let problem = Problem::status(StatusCode::NOT_FOUND);
        assert_eq!(problem.kind, "about:blank");
        assert_eq!(problem.title, "Not Found");
    }
}
