//! The API's one error type and its single mapping to problem+json. Each status it
//! can answer is described here once for the OpenAPI document; each operation lists
//! only its own ([`Errors`]).

use poem::http::StatusCode;
use service_kit::problem::{Documented, DocumentedError, FieldProblem, Problem};

use crate::origin::OriginError;
use crate::store::StoreError;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed input.
    #[error("{detail}")]
    BadRequest {
        /// Stable identifier of the problem kind.
        slug: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// Invalid fields, each named.
    #[error("invalid request")]
    Invalid(Vec<FieldProblem>),
    /// Missing, unknown or expired credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// No such resource.
    #[error("{0}")]
    NotFound(String),
    /// The origin failed.
    #[error(transparent)]
    Origin(#[from] OriginError),
    /// Redis is unavailable for work that cannot do without it.
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

impl<const S: u32> From<OriginError> for Errors<S> {
    fn from(err: OriginError) -> Self {
        Documented(err.into())
    }
}

impl DocumentedError for ApiError {
    const STATUSES: &'static [(u16, &'static str)] = &[
        (400, "Malformed request."),
        (401, "Missing, unknown or expired session."),
        (404, "No such resource."),
        (413, "The body is larger than `server.max_body_bytes`."),
        (415, "The body is not `application/json`."),
        (422, "Invalid fields, each named in `errors`."),
        (502, "The origin failed."),
        (503, "Redis is unavailable; retry later."),
    ];

    fn into_problem(self) -> Problem {
        match self {
            Self::BadRequest { slug, detail } => {
                Problem::new(StatusCode::BAD_REQUEST, slug, "Bad request").with_detail(detail)
            }
            Self::Invalid(errors) => Problem::validation(&errors),
            Self::Unauthorized(detail) => {
                Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized")
                    .with_detail(detail)
            }
            Self::NotFound(detail) => {
                Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found").with_detail(detail)
            }
            Self::Origin(err) => {
                tracing::warn!(error = %err, "origin failed");
                Problem::new(StatusCode::BAD_GATEWAY, "origin-unavailable", "Bad gateway")
                    .with_detail(err.to_string())
            }
            Self::Store(err) => {
                tracing::warn!(error = %err, "redis unavailable");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "redis-unavailable",
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
    fn redis_trouble_is_503_and_origin_trouble_502() {
        let redis = ApiError::from(StoreError::from_message("gone")).into_problem();
        assert_eq!(redis.status, 503);
        assert_eq!(redis.kind, "urn:obi-examples:problem:redis-unavailable");
        let origin = ApiError::from(OriginError("x".into())).into_problem();
        assert_eq!(origin.status, 502);
    }
}
