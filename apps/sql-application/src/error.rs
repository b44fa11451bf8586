//! The one error type of the HTTP API and its single mapping to problem+json: client
//! mistakes (4xx) apart from database trouble (503) and bugs (500).

use poem_openapi::ApiResponse;
use poem_openapi::payload::Json;
pub use service_kit::problem::{CONTENT_TYPE, FieldProblem, ProblemDoc};
use sqlx::error::ErrorKind;

use crate::domain::FieldError;

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
    Invalid(Vec<FieldError>),
    /// No such resource.
    #[error("{0}")]
    NotFound(String),
    /// The request contradicts the stored state (stock, references, uniqueness).
    #[error("{detail}")]
    Conflict {
        /// Stable identifier of the problem kind.
        slug: &'static str,
        /// What conflicts.
        detail: String,
    },
    /// An `Idempotency-Key` reused with a different request.
    #[error("{0}")]
    KeyReused(String),
    /// PostgreSQL cannot be reached, is restarting, or the pool is exhausted.
    #[error("{detail}")]
    Unavailable {
        /// Stable identifier of the problem kind.
        slug: &'static str,
        /// What happened.
        detail: String,
    },
    /// A bug or an unexpected database error.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        classify(err)
    }
}

fn unavailable(slug: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::Unavailable {
        slug,
        detail: detail.into(),
    }
}

/// Sorts a database error into what the client should hear.
fn classify(err: sqlx::Error) -> ApiError {
    match err {
        sqlx::Error::PoolTimedOut => unavailable(
            "database-unavailable",
            "no database connection became available in time (PostgreSQL is down or the pool is exhausted)",
        ),
        sqlx::Error::PoolClosed => unavailable("database-unavailable", "the app is shutting down"),
        sqlx::Error::Io(err) => unavailable(
            "database-unavailable",
            format!("connection to PostgreSQL failed: {err}"),
        ),
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let constraint = db.constraint().unwrap_or_default().to_owned();
            match (db.kind(), code.as_str()) {
                (ErrorKind::UniqueViolation, _) => match constraint.as_str() {
                    "products_sku_key" => conflict("sku-taken", "a product with this sku exists"),
                    "customers_email_key" => {
                        conflict("email-taken", "a customer with this email exists")
                    }
                    _ => conflict("duplicate", format!("duplicate value ({constraint})")),
                },
                (ErrorKind::ForeignKeyViolation, _) => match constraint.as_str() {
                    "orders_customer_id_fkey" => conflict(
                        "customer-referenced",
                        "the customer has orders (or does not exist)",
                    ),
                    "order_items_product_id_fkey" => conflict(
                        "product-referenced",
                        "the product is part of orders (or does not exist)",
                    ),
                    _ => conflict("referenced", format!("reference violated ({constraint})")),
                },
                (_, "57014") => unavailable(
                    "database-timeout",
                    "the query ran longer than the statement timeout",
                ),
                (_, "42P01") => {
                    unavailable("database-not-migrated", "the schema is not migrated yet")
                }
                (_, code)
                    if code.starts_with("08") || code.starts_with("57P") || code == "53300" =>
                {
                    unavailable(
                        "database-unavailable",
                        format!("PostgreSQL refused the work ({code})"),
                    )
                }
                _ => ApiError::Unexpected(anyhow::Error::new(sqlx::Error::Database(db))),
            }
        }
        sqlx::Error::Protocol(message) if message.contains("connection") => {
            unavailable("database-unavailable", message)
        }
        other => ApiError::Unexpected(anyhow::Error::new(other).context("database error")),
    }
}

fn conflict(slug: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::Conflict {
        slug,
        detail: detail.into(),
    }
}

impl ApiError {
    /// A conflict of kind `slug`.
    pub fn conflict(slug: &'static str, detail: impl Into<String>) -> Self {
        conflict(slug, detail)
    }

    /// Whether the database could not do the work (as opposed to refusing it).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

/// Every error answer of the API: problem+json with the matching status.
#[derive(Debug, ApiResponse)]
pub enum ErrorResponse {
    /// Malformed request.
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<ProblemDoc>),
    /// No such resource.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<ProblemDoc>),
    /// The request conflicts with the stored state.
    #[oai(status = 409, content_type = "application/problem+json")]
    Conflict(Json<ProblemDoc>),
    /// Invalid fields, or an idempotency key reused with another request.
    #[oai(status = 422, content_type = "application/problem+json")]
    Unprocessable(Json<ProblemDoc>),
    /// A bug; logged.
    #[oai(status = 500, content_type = "application/problem+json")]
    Internal(Json<ProblemDoc>),
    /// PostgreSQL is unreachable or the pool is exhausted; retry later.
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<ProblemDoc>),
}

impl From<ApiError> for ErrorResponse {
    fn from(err: ApiError) -> Self {
        match err {
            ApiError::BadRequest { slug, detail } => {
                Self::BadRequest(ProblemDoc::json(slug, "Bad request", 400, Some(detail)))
            }
            ApiError::Invalid(fields) => {
                let mut body = ProblemDoc::json(
                    "validation",
                    "Invalid request",
                    422,
                    Some("some fields are invalid".into()),
                );
                body.0.errors = Some(
                    fields
                        .into_iter()
                        .map(|f| FieldProblem {
                            field: f.field,
                            message: f.message,
                        })
                        .collect(),
                );
                Self::Unprocessable(body)
            }
            ApiError::NotFound(detail) => Self::NotFound(ProblemDoc::json(
                "not-found",
                "Not found",
                404,
                Some(detail),
            )),
            ApiError::Conflict { slug, detail } => {
                Self::Conflict(ProblemDoc::json(slug, "Conflict", 409, Some(detail)))
            }
            ApiError::KeyReused(detail) => Self::Unprocessable(ProblemDoc::json(
                "idempotency-key-reused",
                "Idempotency key reused",
                422,
                Some(detail),
            )),
            ApiError::Unavailable { slug, detail } => {
                tracing::warn!(problem = slug, %detail, "database unavailable");
                Self::Unavailable(ProblemDoc::json(
                    slug,
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

/// The content type every error answer carries (re-exported for tests).
pub const PROBLEM_CONTENT_TYPE: &str = CONTENT_TYPE;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_timeout_is_unavailable_not_a_bug() {
        assert!(ApiError::from(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(ApiError::from(sqlx::Error::PoolClosed).is_unavailable());
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(ApiError::from(sqlx::Error::Io(io)).is_unavailable());
    }

    #[test]
    fn other_errors_are_unexpected() {
        let err = ApiError::from(sqlx::Error::ColumnNotFound("x".into()));
        assert!(matches!(err, ApiError::Unexpected(_)));
        assert!(matches!(
            ErrorResponse::from(err),
            ErrorResponse::Internal(_)
        ));
    }
}
