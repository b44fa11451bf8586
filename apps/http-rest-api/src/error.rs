//! The API's one error type: every client-visible failure is a problem+json document
//! naming what was wrong, and each status it can answer is described here once for
//! the OpenAPI document (each operation lists only its own, see [`Errors`]).

use poem::http::{StatusCode, header};
use poem::{IntoResponse, Response};
use service_kit::problem::{Documented, DocumentedError, FieldProblem, Problem};

use crate::store::StoreError;

/// A failed API call, rendered as problem+json.
#[derive(Debug)]
pub struct ApiError(pub Problem);

/// The errors of an operation that documents the statuses `S` (bits of
/// `service_kit::problem::status`).
pub type Errors<const S: u32> = Documented<ApiError, S>;

impl ApiError {
    /// 422 listing every invalid field.
    pub fn validation(errors: Vec<FieldProblem>) -> Self {
        Self(Problem::validation(&errors))
    }

    /// 400 for one bad query or path parameter.
    pub fn bad_parameter(field: &str, message: impl Into<String>) -> Self {
        Self(Problem::bad_parameter(field, message))
    }

    /// 401 with the `WWW-Authenticate` challenge.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self(
            Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized")
                .with_detail(detail)
                .with_header(
                    header::WWW_AUTHENTICATE,
                    concat!("Bearer realm=\"", env!("CARGO_PKG_NAME"), "\""),
                ),
        )
    }

    /// 403: a valid token whose role does not allow the operation.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self(Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden").with_detail(detail))
    }
}

impl DocumentedError for ApiError {
    const STATUSES: &'static [(u16, &'static str)] = &[
        (
            400,
            "Malformed request: a parameter or the body could not be read",
        ),
        (401, "Missing or invalid bearer token"),
        (403, "The token's role does not allow this operation"),
        (404, "No such product or image"),
        (409, "The SKU is used by another product"),
        (412, "`If-Match` names a version that is no longer current"),
        (413, "The body is larger than allowed"),
        (415, "The content type is not accepted"),
        (422, "Validation failed; `errors` names each field"),
        (429, "Rate limited; see `Retry-After`"),
        (507, "The bounded store is full"),
    ];

    fn into_problem(self) -> Problem {
        self.0
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        let detail = err.to_string();
        let problem = match &err {
            StoreError::NotFound(_) => {
                Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found")
            }
            StoreError::DuplicateSku(..) => {
                Problem::new(StatusCode::CONFLICT, "duplicate-sku", "SKU already used")
                    .with("errors", [FieldProblem::new("sku", detail.clone())])
            }
            StoreError::VersionMismatch { current, .. } => Problem::new(
                StatusCode::PRECONDITION_FAILED,
                "version-mismatch",
                "The product changed",
            )
            .with("current_etag", current)
            .with_header(header::ETAG, current.clone()),
            StoreError::Full(_) | StoreError::ImagesFull { .. } => Problem::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "store-full",
                "The catalog is full",
            ),
        };
        Self(problem.with_detail(detail))
    }
}

impl<const S: u32> From<StoreError> for Errors<S> {
    fn from(err: StoreError) -> Self {
        Documented(err.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

impl From<ApiError> for poem::Error {
    fn from(err: ApiError) -> Self {
        poem::Error::from_response(err.into_response())
    }
}
