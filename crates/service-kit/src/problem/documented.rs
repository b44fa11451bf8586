//! The error answers of an operation as its OpenAPI entry documents them: each
//! operation says which statuses it can answer ([`Documented`] with bits of
//! [`status`]), and the app's error type says once what each status means in its API
//! ([`DocumentedError`]). So a `GET` that reads memory does not document a 503, and a
//! write behind a token documents its 401 and 403.
//!
//! ```ignore
//! type GetErrors = Documented<ApiError, { status::BAD_REQUEST | status::NOT_FOUND }>;
//!
//! async fn get(&self, id: Path<i64>) -> Result<Json<Order>, GetErrors> { ... }
//! ```

use std::any::type_name;

use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;

use super::{CONTENT_TYPE, Problem, ProblemDoc};

/// The error statuses an operation can document, as bits to combine with `|`.
pub mod status {
    /// 400: a parameter or the body could not be read.
    pub const BAD_REQUEST: u32 = 1 << 0;
    /// 401: missing or invalid credentials.
    pub const UNAUTHORIZED: u32 = 1 << 1;
    /// 403: the credentials do not allow the operation.
    pub const FORBIDDEN: u32 = 1 << 2;
    /// 404: no such resource.
    pub const NOT_FOUND: u32 = 1 << 3;
    /// 409: the request conflicts with the stored state.
    pub const CONFLICT: u32 = 1 << 4;
    /// 412: a precondition (`If-Match`) no longer holds.
    pub const PRECONDITION_FAILED: u32 = 1 << 5;
    /// 413: the body is larger than allowed.
    pub const PAYLOAD_TOO_LARGE: u32 = 1 << 6;
    /// 415: the content type is not accepted.
    pub const UNSUPPORTED_MEDIA_TYPE: u32 = 1 << 7;
    /// 422: validation failed.
    pub const UNPROCESSABLE: u32 = 1 << 8;
    /// 429: rate limited.
    pub const TOO_MANY_REQUESTS: u32 = 1 << 9;
    /// 500: a bug.
    pub const INTERNAL: u32 = 1 << 10;
    /// 502: an upstream answered badly.
    pub const BAD_GATEWAY: u32 = 1 << 11;
    /// 503: a backing service is unavailable.
    pub const UNAVAILABLE: u32 = 1 << 12;
    /// 507: bounded storage is full.
    pub const INSUFFICIENT_STORAGE: u32 = 1 << 13;

    /// Each bit with its status code, in the order documents list them.
    pub(crate) const CODES: [(u32, u16); 14] = [
        (BAD_REQUEST, 400),
        (UNAUTHORIZED, 401),
        (FORBIDDEN, 403),
        (NOT_FOUND, 404),
        (CONFLICT, 409),
        (PRECONDITION_FAILED, 412),
        (PAYLOAD_TOO_LARGE, 413),
        (UNSUPPORTED_MEDIA_TYPE, 415),
        (UNPROCESSABLE, 422),
        (TOO_MANY_REQUESTS, 429),
        (INTERNAL, 500),
        (BAD_GATEWAY, 502),
        (UNAVAILABLE, 503),
        (INSUFFICIENT_STORAGE, 507),
    ];
}

/// An app's API error: the one place that maps it to a problem+json answer, and that
/// describes, once for the whole API, what each status it can answer means.
pub trait DocumentedError: Send + Sync + 'static {
    /// Each status the API's operations document, with its description in the
    /// OpenAPI document.
    const STATUSES: &'static [(u16, &'static str)];

    /// The answer to the client (and the log line, for what the client cannot fix).
    fn into_problem(self) -> Problem;
}

/// An error of an operation that documents only the statuses in `STATUSES` (bits of
/// [`status`]). The answer is the error's own, whatever its status: the bits shape
/// the document, not the response.
#[derive(Debug)]
pub struct Documented<E, const STATUSES: u32>(pub E);

impl<E: DocumentedError, const STATUSES: u32> From<E> for Documented<E, STATUSES> {
    fn from(err: E) -> Self {
        Self(err)
    }
}

impl<E: DocumentedError, const STATUSES: u32> IntoResponse for Documented<E, STATUSES> {
    fn into_response(self) -> Response {
        self.0.into_problem().into_response()
    }
}

impl<E: DocumentedError, const STATUSES: u32> From<Documented<E, STATUSES>> for poem::Error {
    fn from(err: Documented<E, STATUSES>) -> Self {
        poem::Error::from_response(err.into_response())
    }
}

impl<E: DocumentedError, const STATUSES: u32> ApiResponse for Documented<E, STATUSES> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: status::CODES
                .iter()
                .filter(|&&(bit, _)| STATUSES & bit != 0)
                .map(|&(_, code)| MetaResponse {
                    description: description::<E>(code),
                    status: Some(code),
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

/// What `E` says status `code` means. An operation documenting a status its API does
/// not describe is a bug in the app: it stops the document from being built (the
/// app's OpenAPI test fails), rather than documenting an empty description.
fn description<E: DocumentedError>(code: u16) -> &'static str {
    E::STATUSES
        .iter()
        .find(|(status, _)| *status == code)
        .map(|(_, description)| *description)
        .unwrap_or_else(|| {
            panic!(
                "an operation documents status {code}, but {} does not describe it in STATUSES",
                type_name::<E>()
            )
        })
}

#[cfg(test)]
mod tests {
    use poem::http::StatusCode;

    use super::*;

    #[derive(Debug)]
    struct Missing;

    impl DocumentedError for Missing {
        const STATUSES: &'static [(u16, &'static str)] =
            &[(404, "No such thing"), (400, "Unreadable")];

        fn into_problem(self) -> Problem {
            Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found")
        }
    }

    #[test]
    fn an_operation_documents_only_its_statuses_in_code_order() {
        type Errors = Documented<Missing, { status::NOT_FOUND | status::BAD_REQUEST }>;
        let meta = Errors::meta();
        let documented: Vec<(Option<u16>, &str)> = meta
            .responses
            .iter()
            .map(|r| (r.status, r.description))
            .collect();
        assert_eq!(
            documented,
            [(Some(400), "Unreadable"), (Some(404), "No such thing")]
        );
        assert_eq!(meta.responses[0].content[0].content_type, CONTENT_TYPE);
    }

    #[test]
    #[should_panic(expected = "documents status 503")]
    fn documenting_a_status_the_api_does_not_describe_is_a_bug() {
        let _ = Documented::<Missing, { status::UNAVAILABLE }>::meta();
    }

    #[tokio::test]
    async fn the_answer_is_the_errors_own_problem() {
        let response = Documented::<Missing, { status::BAD_REQUEST }>(Missing).into_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()["content-type"], CONTENT_TYPE);
        let error: poem::Error = Documented::<Missing, 0>(Missing).into();
        assert_eq!(error.into_response().status(), StatusCode::NOT_FOUND);
    }
}
