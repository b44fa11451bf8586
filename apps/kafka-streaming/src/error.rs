//! The one error type of the HTTP API and its single mapping to problem+json: invalid
//! events (422) apart from an unavailable broker (503) and bugs (500).

use poem_openapi::ApiResponse;
use poem_openapi::payload::Json;
use rdkafka::error::KafkaError;
pub use service_kit::problem::{FieldProblem, ProblemDoc};

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

impl From<ApiError> for ErrorResponse {
    fn from(err: ApiError) -> Self {
        match err {
            ApiError::Invalid(fields) => {
                let mut body = ProblemDoc::json(
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
            ApiError::Disabled(detail) => Self::NotFound(ProblemDoc::json(
                "role-disabled",
                "Not found",
                404,
                Some(detail),
            )),
            ApiError::Unavailable(detail) => {
                tracing::warn!(%detail, "broker unavailable");
                Self::Unavailable(ProblemDoc::json(
                    "broker-unavailable",
                    "Service unavailable",
                    503,
                    Some(detail),
                ))
            }
            ApiError::Unexpected(err) => {
                tracing::error!(error = format!("{err:#}"), "unexpected error");
                Self::Internal(ProblemDoc::json(
                    "internal",
                    "Internal server error",
                    500,
                    None,
                ))
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
