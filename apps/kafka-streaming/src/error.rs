//! The API's one error type and its single mapping to problem+json: invalid events
//! (422) apart from an unavailable broker (503). Each status it can answer is
//! described here once for the OpenAPI document; each operation lists only its own
//! ([`Errors`]).

use poem::http::StatusCode;
use service_kit::problem::{Documented, DocumentedError, FieldProblem, Problem};

use crate::store::StoreError;

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
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The errors of an operation that documents the statuses `S` (bits of
/// `service_kit::problem::status`).
pub type Errors<const S: u32> = Documented<ApiError, S>;

impl<const S: u32> From<StoreError> for Errors<S> {
    fn from(err: StoreError) -> Self {
        Documented(err.into())
    }
}

impl DocumentedError for ApiError {
    const STATUSES: &'static [(u16, &'static str)] = &[
        (400, "Malformed JSON, or a body that is not a JSON object."),
        (404, "The role serving this route is off in this process."),
        (413, "The body is larger than `server.max_body_bytes`."),
        (415, "The body is not `application/json`."),
        (
            422,
            "Invalid fields (a field of the wrong JSON type included).",
        ),
        (
            503,
            "The broker is unreachable or did not acknowledge in time; nothing was acknowledged, retry later.",
        ),
    ];

    fn into_problem(self) -> Problem {
        match self {
            Self::Invalid(fields) => Problem::validation(&fields),
            Self::Disabled(detail) => {
                Problem::new(StatusCode::NOT_FOUND, "role-disabled", "Not found")
                    .with_detail(detail)
            }
            Self::Store(err) => {
                tracing::warn!(error = %err, "broker unavailable");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "broker-unavailable",
                    "Service unavailable",
                )
                .with_detail(err.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_answers_its_status() {
        let unavailable = ApiError::from(StoreError::from_message("gone")).into_problem();
        assert_eq!(unavailable.status, 503);
        assert_eq!(unavailable.detail.as_deref(), Some("gone"));
        let invalid =
            ApiError::Invalid(vec![FieldProblem::new("type", "is required")]).into_problem();
        assert_eq!(invalid.status, 422);
        assert_eq!(invalid.detail.as_deref(), Some("`type`: is required"));
        let disabled = ApiError::Disabled("off".into()).into_problem();
        assert_eq!(disabled.kind, "urn:obi-examples:problem:role-disabled");
    }
}
