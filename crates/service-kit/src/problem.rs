//! RFC 9457 problem details (`application/problem+json`): the one shape every
//! client-visible error of our HTTP apps takes. [`Problem`] is the answer;
//! [`ProblemDoc`] and [`FieldProblem`] are its schema in the OpenAPI documents;
//! [`documented`] lets each operation document only the statuses it can answer;
//! [`middleware`] gives the errors poem raises itself the same shape.

pub mod documented;
pub mod middleware;
mod paths;

use std::fmt;

use poem::http::{StatusCode, header};
use poem::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};

pub use documented::{Documented, DocumentedError, status};
pub use middleware::Problems;

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

    /// 422 `validation`, naming every invalid field in `detail` and listing them in
    /// `errors`.
    pub fn validation(errors: &[FieldProblem]) -> Self {
        let detail: Vec<String> = errors.iter().map(FieldProblem::to_string).collect();
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "Invalid request",
        )
        .with_detail(detail.join("; "))
        .with("errors", errors)
    }

    /// 400 `bad-parameter`: one query, path or header parameter could not be used.
    pub fn bad_parameter(field: &str, message: impl Into<String>) -> Self {
        let error = FieldProblem::new(field, message);
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad-parameter",
            "Invalid parameter",
        )
        .with_detail(error.to_string())
        .with("errors", [&error])
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
    #[oai(nullable)]
    pub detail: Option<String>,
    /// Invalid fields, for `validation` problems.
    #[oai(nullable)]
    pub errors: Option<Vec<FieldProblem>>,
}

// What every validation of every app reports, one per field at fault, so that a 422
// (or a 400 for a parameter) names them all.
/// One invalid field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, poem_openapi::Object)]
pub struct FieldProblem {
    /// JSON path of the field (or the parameter's name).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldProblem {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.field, self.message)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_validation_problem_names_every_field() {
        let problem = Problem::validation(&[
            FieldProblem::new("type", "is required"),
            FieldProblem::new("items[1].quantity", "must be positive"),
        ]);
        assert_eq!(problem.status, 422);
        assert_eq!(
            problem.detail.as_deref(),
            Some("`type`: is required; `items[1].quantity`: must be positive")
        );
        assert_eq!(
            problem.extensions["errors"][1]["field"],
            "items[1].quantity"
        );
        let parameter = Problem::bad_parameter("limit", "must be between 1 and 100");
        assert_eq!(parameter.kind, "urn:obi-examples:problem:bad-parameter");
        assert_eq!(parameter.extensions["errors"][0]["field"], "limit");
    }

    #[test]
    fn a_status_problem_is_about_blank_with_the_reason_phrase() {
        let problem = Problem::status(StatusCode::NOT_FOUND);
        assert_eq!(problem.kind, "about:blank");
        assert_eq!(problem.title, "Not Found");
    }
}
