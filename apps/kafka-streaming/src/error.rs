//! The one error type of the HTTP API and its single mapping to problem+json: invalid
//! events (422) apart from an unavailable broker (503) and bugs (500).

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};
use rdkafka::error::KafkaError;

/// One invalid field.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct FieldProblem {
    /// JSON path of the field, e.g. `events[2].type`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Fields that fail validation.
    #[error("invalid request: {} field(s)", .0.len())]
    Invalid(Vec<FieldProblem>),
    /// The role behind this route is switched off in this process.
    #[error("{0}")]
    Disabled(String),
    /// The broker did not acknowledge in time, or cannot be reached.
    #[error("{0}")]
    Unavailable(String),
    /// A bug.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<KafkaError> for ApiError {
    fn from(err: KafkaError) -> Self {
        // Every produce or metadata failure means "not written / not known": the
        // client may retry (event ids make retries safe).
        Self::Unavailable(format!("the Kafka broker did not answer in time: {err}"))
    }
}

/// An RFC 9457 problem document, as the OpenAPI document describes it.
#[derive(Debug, Clone, Object)]
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

/// Every error answer of the API: problem+json with the matching status.
#[derive(Debug, ApiResponse)]
pub enum ErrorResponse {
    /// Malformed JSON, or a body that is not a JSON object.
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<ProblemDoc>),
    /// The role serving this route is off in this process.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<ProblemDoc>),
    /// Invalid fields (a field of the wrong JSON type included).
    #[oai(status = 422, content_type = "application/problem+json")]
    Unprocessable(Json<ProblemDoc>),
    /// A bug; logged.
    #[oai(status = 500, content_type = "application/problem+json")]
    Internal(Json<ProblemDoc>),
    /// The broker is unreachable or did not acknowledge in time; nothing was
    /// acknowledged, retry later.
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<ProblemDoc>),
}

fn doc(slug: &str, title: &str, status: u16, detail: Option<String>) -> Json<ProblemDoc> {
    Json(ProblemDoc {
        kind: format!("urn:obi-examples:problem:{slug}"),
        title: title.to_owned(),
        status,
        detail,
        errors: None,
    })
}

impl From<ApiError> for ErrorResponse {
    fn from(err: ApiError) -> Self {
        match err {
            ApiError::Invalid(fields) => {
                let mut body = doc(
                    "validation",
                    "Invalid request",
                    422,
                    Some(
                        fields
                            .iter()
                            .map(|f| format!("{}: {}", f.field, f.message))
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                );
                body.0.errors = Some(fields);
                Self::Unprocessable(body)
            }
            ApiError::Disabled(detail) => {
                Self::NotFound(doc("role-disabled", "Not found", 404, Some(detail)))
            }
            ApiError::Unavailable(detail) => {
                tracing::warn!(%detail, "broker unavailable");
                Self::Unavailable(doc(
                    "broker-unavailable",
                    "Service unavailable",
                    503,
                    Some(detail),
                ))
            }
            ApiError::Unexpected(err) => {
                tracing::error!(error = format!("{err:#}"), "unexpected error");
                Self::Internal(doc("internal", "Internal server error", 500, None))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::types::RDKafkaErrorCode;

    #[test]
    fn a_produce_failure_is_unavailable() {
        let err = ApiError::from(KafkaError::MessageProduction(
            RDKafkaErrorCode::MessageTimedOut,
        ));
        assert!(matches!(
            ErrorResponse::from(err),
            ErrorResponse::Unavailable(_)
        ));
    }

    #[test]
    fn bugs_are_internal_and_invalid_fields_are_named() {
        let err = ApiError::Unexpected(anyhow::anyhow!("boom"));
        assert!(matches!(
            ErrorResponse::from(err),
            ErrorResponse::Internal(_)
        ));
        let invalid = ApiError::Invalid(vec![FieldProblem {
            field: "type".into(),
            message: "is required".into(),
        }]);
        let ErrorResponse::Unprocessable(Json(body)) = ErrorResponse::from(invalid) else {
            panic!("not 422");
        };
        assert_eq!(body.detail.as_deref(), Some("type: is required"));
        let disabled = ErrorResponse::from(ApiError::Disabled("off".into()));
        assert!(matches!(disabled, ErrorResponse::NotFound(_)));
    }
}
