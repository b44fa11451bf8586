//! The API's one error type and its single mapping to problem+json: client mistakes
//! (4xx) apart from database trouble (503) and bugs (500). Each status it can answer
//! is described here once for the OpenAPI document; each operation lists only its own
//! ([`Errors`]).

use poem::http::StatusCode;
use service_kit::problem::{Documented, DocumentedError, FieldProblem, Problem};

use crate::store::StoreError;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed input that is not about one field (a bad cursor, ...).
    #[error("{detail}")]
    BadRequest {
        /// Stable identifier of the problem kind.
        slug: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// Fields that fail validation.
    #[error("invalid request: {} field(s)", .0.len())]
    Invalid(Vec<FieldProblem>),
    /// What the store answered.
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
        (400, "Malformed request."),
        (404, "No such resource."),
        (409, "The request conflicts with the stored state."),
        (413, "The body is larger than `server.max_body_bytes`."),
        (415, "The body is not `application/json`."),
        (
            422,
            "Invalid fields, or an idempotency key reused with another request.",
        ),
        (500, "A bug; logged."),
        (
            503,
            "PostgreSQL is unreachable or the pool is exhausted; retry later.",
        ),
    ];

    fn into_problem(self) -> Problem {
        match self {
            Self::BadRequest { slug, detail } => {
                Problem::new(StatusCode::BAD_REQUEST, slug, "Bad request").with_detail(detail)
            }
            Self::Invalid(fields) => Problem::validation(&fields),
            Self::Store(StoreError::NotFound(detail)) => {
                Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found").with_detail(detail)
            }
            Self::Store(StoreError::Conflict { slug, detail }) => {
                Problem::new(StatusCode::CONFLICT, slug, "Conflict").with_detail(detail)
            }
            Self::Store(StoreError::KeyReused(detail)) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency key reused",
            )
            .with_detail(detail),
            Self::Store(StoreError::Unstorable(detail)) => {
                tracing::warn!(%detail, "a value passed the fields' rules but not PostgreSQL");
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unstorable-value",
                    "Unstorable value",
                )
                .with_detail(detail)
            }
            Self::Store(StoreError::Unavailable { slug, detail }) => {
                tracing::warn!(problem = slug, %detail, "database unavailable");
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, slug, "Service unavailable")
                    .with_detail(detail)
            }
            Self::Store(StoreError::Unexpected(err)) => {
                tracing::error!(error = format!("{err:#}"), "unexpected error");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal server error",
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_answers_its_status() {
        let cases = [
            (
                ApiError::BadRequest {
                    slug: "invalid-limit",
                    detail: "x".into(),
                },
                400,
            ),
            (
                ApiError::Invalid(vec![FieldProblem::new("sku", "bad")]),
                422,
            ),
            (StoreError::NotFound("x".into()).into(), 404),
            (StoreError::KeyReused("x".into()).into(), 422),
            (StoreError::Unstorable("x".into()).into(), 422),
            (
                StoreError::from(crate::domain::order::Rejection::UnknownCustomer(1)).into(),
                409,
            ),
            (
                StoreError::Unavailable {
                    slug: "database-unavailable",
                    detail: "x".into(),
                }
                .into(),
                503,
            ),
            (StoreError::Unexpected(anyhow::anyhow!("boom")).into(), 500),
        ];
        for (err, status) in cases {
            assert_eq!(err.into_problem().status, status);
        }
    }
}
