//! The API's one error type: every client-visible failure is a problem+json
//! document ([`Problem`]) naming what was wrong. Also the middleware that turns
//! errors raised outside our handlers (bad parameters, unknown routes, missing
//! tokens) into the same shape, so no client ever sees a plain-text error.

use poem::http::{StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use poem_openapi::error::{AuthorizationError, ParseParamError, ParsePathError};
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::{ApiResponse, Object, types::Type};
use service_kit::problem::{CONTENT_TYPE, Problem};

use crate::domain::FieldError;
use crate::store::StoreError;

/// A failed API call, rendered as problem+json.
#[derive(Debug)]
pub struct ApiError(pub Problem);

impl ApiError {
    /// 422 listing every invalid field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        Self(
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Invalid request",
            )
            .with_detail(format!("invalid fields: {}", fields.join(", ")))
            .with("errors", &errors),
        )
    }

    /// 400 for one bad query or path parameter.
    pub fn bad_parameter(field: &str, message: impl Into<String>) -> Self {
        let error = FieldError::new(field, message);
        Self(
            Problem::new(
                StatusCode::BAD_REQUEST,
                "bad-parameter",
                "Invalid parameter",
            )
            .with_detail(error.to_string())
            .with("errors", [&error]),
        )
    }

    /// 401 with the `WWW-Authenticate` challenge.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self(
            Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized")
                .with_detail(detail)
                .with_header(header::WWW_AUTHENTICATE, "Bearer realm=\"http-rest-api\""),
        )
    }

    /// 403: a valid token whose role does not allow the operation.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self(Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden").with_detail(detail))
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
                    .with("errors", [FieldError::new("sku", detail.clone())])
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

/// The shape of every error body, for the OpenAPI document (RFC 9457).
#[derive(Debug, Object)]
#[oai(rename = "Problem")]
pub struct ProblemDoc {
    /// URI of the kind of problem, e.g. `urn:obi-examples:problem:validation`.
    #[oai(rename = "type")]
    pub kind: String,
    /// Summary of the kind of problem.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: Option<String>,
    /// For validation problems: each field at fault.
    pub errors: Option<Vec<FieldErrorDoc>>,
}

/// One field at fault.
#[derive(Debug, Object)]
#[oai(rename = "FieldError")]
pub struct FieldErrorDoc {
    /// The field or parameter name.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// The error statuses of the API, as bits an operation combines to say which of
/// them it can answer (see [`Documented`]).
pub mod status {
    /// 400: a parameter or the body could not be read.
    pub const BAD_REQUEST: u16 = 1 << 0;
    /// 401: missing or invalid bearer token, or bad credentials.
    pub const UNAUTHORIZED: u16 = 1 << 1;
    /// 403: the token's role does not allow the operation.
    pub const FORBIDDEN: u16 = 1 << 2;
    /// 404: no such product or image.
    pub const NOT_FOUND: u16 = 1 << 3;
    /// 409: the SKU is used by another product.
    pub const CONFLICT: u16 = 1 << 4;
    /// 412: `If-Match` names a version that is no longer current.
    pub const PRECONDITION_FAILED: u16 = 1 << 5;
    /// 413: the body is larger than allowed.
    pub const PAYLOAD_TOO_LARGE: u16 = 1 << 6;
    /// 415: the content type is not accepted.
    pub const UNSUPPORTED_MEDIA_TYPE: u16 = 1 << 7;
    /// 422: validation failed.
    pub const UNPROCESSABLE: u16 = 1 << 8;
    /// 429: rate limited (every `/api/` route).
    pub const TOO_MANY_REQUESTS: u16 = 1 << 9;
    /// 507: the bounded store is full.
    pub const INSUFFICIENT_STORAGE: u16 = 1 << 10;
}

/// Each status bit with its code and description in the OpenAPI document.
const DOCUMENTED: &[(u16, u16, &str)] = &[
    (
        status::BAD_REQUEST,
        400,
        "Malformed request: a parameter or the body could not be read",
    ),
    (status::UNAUTHORIZED, 401, "Missing or invalid bearer token"),
    (
        status::FORBIDDEN,
        403,
        "The token's role does not allow this operation",
    ),
    (status::NOT_FOUND, 404, "No such product or image"),
    (status::CONFLICT, 409, "The SKU is used by another product"),
    (
        status::PRECONDITION_FAILED,
        412,
        "`If-Match` names a version that is no longer current",
    ),
    (
        status::PAYLOAD_TOO_LARGE,
        413,
        "The body is larger than allowed",
    ),
    (
        status::UNSUPPORTED_MEDIA_TYPE,
        415,
        "The content type is not accepted",
    ),
    (
        status::UNPROCESSABLE,
        422,
        "Validation failed; `errors` names each field",
    ),
    (
        status::TOO_MANY_REQUESTS,
        429,
        "Rate limited; see `Retry-After`",
    ),
    (
        status::INSUFFICIENT_STORAGE,
        507,
        "The bounded store is full",
    ),
];

/// An [`ApiError`] of an operation that documents only the statuses in `STATUSES`
/// (bits of [`status`]), so that each operation's OpenAPI entry lists what it can
/// really answer. The answer itself is the error's, whatever its status.
#[derive(Debug)]
pub struct Documented<const STATUSES: u16>(pub ApiError);

impl<const STATUSES: u16> From<ApiError> for Documented<STATUSES> {
    fn from(err: ApiError) -> Self {
        Self(err)
    }
}

impl<const STATUSES: u16> From<StoreError> for Documented<STATUSES> {
    fn from(err: StoreError) -> Self {
        Self(err.into())
    }
}

impl<const STATUSES: u16> From<Documented<STATUSES>> for poem::Error {
    fn from(err: Documented<STATUSES>) -> Self {
        err.0.into()
    }
}

impl<const STATUSES: u16> IntoResponse for Documented<STATUSES> {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

impl<const STATUSES: u16> ApiResponse for Documented<STATUSES> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: DOCUMENTED
                .iter()
                .filter(|&&(bit, _, _)| STATUSES & bit != 0)
                .map(|&(_, status, description)| MetaResponse {
                    description,
                    status: Some(status),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: CONTENT_TYPE,
                        schema: ProblemDoc::schema_ref(),
                    }],
                    headers: vec![],
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        ProblemDoc::register(registry);
    }
}

/// Turns every error and every non-problem 4xx/5xx into problem+json.
#[derive(Debug, Clone, Copy, Default)]
pub struct Problems;

impl<E: Endpoint> Middleware<E> for Problems {
    type Output = ProblemsEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        ProblemsEndpoint { inner }
    }
}

/// The endpoint [`Problems`] wraps.
#[derive(Debug)]
pub struct ProblemsEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for ProblemsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        match self.inner.call(req).await {
            Ok(output) => Ok(output.into_response()),
            Err(err) => Ok(problem_for(err)),
        }
    }
}

/// poem-openapi reports path parameters by internal names (`param0`); the only
/// path parameter of this API is the product `id`.
fn public_name(name: &str) -> &str {
    let internal = name
        .strip_prefix("param")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if internal { "id" } else { name }
}

fn problem_for(err: poem::Error) -> Response {
    if err.is_from_response() {
        let response = err.into_response();
        let is_problem = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|ct| ct.as_bytes().starts_with(CONTENT_TYPE.as_bytes()));
        if is_problem || response.status().is_success() {
            return response;
        }
        let status = response.status();
        return Problem::status(status).into_response();
    }
    if let Some(param) = err.downcast_ref::<ParseParamError>() {
        return ApiError::bad_parameter(public_name(param.name), param.reason.clone())
            .into_response();
    }
    if let Some(path) = err.downcast_ref::<ParsePathError>() {
        return ApiError::bad_parameter(public_name(path.name), path.reason.clone())
            .into_response();
    }
    if err.is::<AuthorizationError>() {
        return ApiError::unauthorized(
            "send `Authorization: Bearer <token>`; get one from POST /api/v1/auth/token",
        )
        .into_response();
    }
    let status = err.status();
    if status.is_server_error() {
        tracing::error!(error = %err, "request failed");
        return Problem::status(status)
            .with_detail("the server failed to handle this request")
            .into_response();
    }
    Problem::status(status)
        .with_detail(err.to_string())
        .into_response()
}
