//! A request body limit enforced while the body streams in: a declared
//! `Content-Length` over the limit is refused before reading; a body without one
//! (chunked) is cut off as soon as it passes the limit. Either way the answer is
//! 413 and the body is never buffered whole. (poem's `SizeLimit` answers 411 to
//! bodies without a length, which chunked uploads are.)

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::StreamExt;
use poem::http::{StatusCode, header};
use poem::{Body, Endpoint, IntoResponse, Request, Response};
use service_kit::problem::Problem;

/// The limit in force, as request data (set from `images.max_bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimit {
    /// Largest file accepted.
    pub max_file_bytes: usize,
}

impl UploadLimit {
    /// Room for the multipart framing around the file (boundaries, part headers).
    const FRAMING: usize = 16 * 1024;

    /// Largest whole body accepted.
    pub fn max_body_bytes(self) -> usize {
        self.max_file_bytes + Self::FRAMING
    }
}

/// What an operation's `transform` calls: wraps `ep` with the streaming limit.
pub fn limit_upload<E: Endpoint>(ep: E) -> LimitedUpload<E> {
    LimitedUpload { inner: ep }
}

/// The endpoint [`limit_upload`] returns.
#[derive(Debug)]
pub struct LimitedUpload<E> {
    inner: E,
}

/// The 413 answer.
pub fn too_large(limit: UploadLimit) -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "upload-too-large",
        "Upload too large",
    )
    .with_detail(format!(
        "an image may be at most {} bytes",
        limit.max_file_bytes
    ))
    .with("max_bytes", limit.max_file_bytes)
}

impl<E: Endpoint> Endpoint for LimitedUpload<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let limit = req.data::<UploadLimit>().copied().unwrap_or(UploadLimit {
            max_file_bytes: 1024 * 1024,
        });
        let max_body = limit.max_body_bytes();
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > max_body as u64) {
            return Ok(too_large(limit).into_response());
        }
        let exceeded = Arc::new(AtomicBool::new(false));
        let flag = exceeded.clone();
        let mut seen = 0usize;
        let limited = req.take_body().into_bytes_stream().map(move |chunk| {
            let chunk = chunk?;
            seen += chunk.len();
            if seen > max_body {
                flag.store(true, Ordering::Relaxed);
                return Err(io::Error::other("upload larger than allowed"));
            }
            Ok(chunk)
        });
        req.set_body(Body::from_bytes_stream(limited));
        let result = self.inner.call(req).await;
        if exceeded.load(Ordering::Relaxed) {
            return Ok(too_large(limit).into_response());
        }
        result.map(IntoResponse::into_response)
    }
}
