//! The one error type of the HTTP API and its mapping to problem+json.

use poem_openapi::ApiResponse;
use poem_openapi::payload::Json;
pub use service_kit::problem::ProblemDoc;

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
    /// Missing, unknown or expired credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// No such resource.
    #[error("{0}")]
    NotFound(String),
    /// The origin failed.
    #[error("{0}")]
    BadGateway(String),
    /// Redis is unavailable for work that cannot do without it.
    #[error("{0}")]
    Unavailable(String),
}

impl From<redis::RedisError> for ApiError {
    fn from(err: redis::RedisError) -> Self {
        Self::Unavailable(format!("Redis is unavailable: {err}"))
    }
}

impl From<crate::origin::OriginError> for ApiError {
    fn from(err: crate::origin::OriginError) -> Self {
        Self::BadGateway(err.to_string())
    }
}

/// Every error answer of the API: problem+json with the matching status.
#[derive(Debug, ApiResponse)]
pub enum ErrorResponse {
    /// Malformed request.
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<ProblemDoc>),
    /// Missing, unknown or expired session.
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(Json<ProblemDoc>),
    /// No such resource.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<ProblemDoc>),
    /// The origin failed.
    #[oai(status = 502, content_type = "application/problem+json")]
    BadGateway(Json<ProblemDoc>),
    /// Redis is unavailable; retry later.
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<ProblemDoc>),
}

impl From<ApiError> for ErrorResponse {
    fn from(err: ApiError) -> Self {
        match err {
            ApiError::BadRequest { slug, detail } => {
                Self::BadRequest(ProblemDoc::json(slug, "Bad request", 400, Some(detail)))
            }
            ApiError::Unauthorized(detail) => Self::Unauthorized(ProblemDoc::json(
                "unauthorized",
                "Unauthorized",
                401,
                Some(detail),
            )),
            ApiError::NotFound(detail) => Self::NotFound(ProblemDoc::json(
                "not-found",
                "Not found",
                404,
                Some(detail),
            )),
            ApiError::BadGateway(detail) => {
                tracing::warn!(%detail, "origin failed");
                Self::BadGateway(ProblemDoc::json(
                    "origin-unavailable",
                    "Bad gateway",
                    502,
                    Some(detail),
                ))
            }
            ApiError::Unavailable(detail) => {
                tracing::warn!(%detail, "redis unavailable");
                Self::Unavailable(ProblemDoc::json(
                    "redis-unavailable",
                    "Service unavailable",
                    503,
                    Some(detail),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_errors_are_unavailable() {
        let err = redis::RedisError::from((redis::ErrorKind::Io, "gone"));
        assert!(matches!(
            ErrorResponse::from(ApiError::from(err)),
            ErrorResponse::Unavailable(_)
        ));
        let origin = crate::origin::OriginError("x".into());
        assert!(matches!(
            ErrorResponse::from(ApiError::from(origin)),
            ErrorResponse::BadGateway(_)
        ));
    }
}
