//! [`BodyLimit`]: every request body of an HTTP app is bounded by
//! `server.max_body_bytes`, counted while it streams in, so that no client makes the
//! app buffer more than that: a declared `Content-Length` above the limit is answered
//! 413 at once, and a body that grows past it (chunked, or lying about its length)
//! ends the read with 413 as soon as it crosses the limit.
//!
//! An answer given before the body was read to its end (that 413, a 401 or 429 that
//! never looked at the body) carries `Connection: close`: the unread rest of the
//! body would otherwise be taken for the client's next request on a keep-alive
//! connection, and the server drops such a connection anyway.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use futures_util::StreamExt;
use poem::http::{HeaderValue, StatusCode, header};
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response};

use crate::problem::Problem;

/// Bounds every request body to `max` bytes; see the module.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit {
    max: u64,
}

impl BodyLimit {
    /// A limit of `max` bytes per request body.
    pub fn new(max: u64) -> Self {
        Self { max }
    }
}

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        BodyLimitEndpoint {
            inner,
            max: self.max,
        }
    }
}

/// The endpoint [`BodyLimit`] wraps.
#[derive(Debug)]
pub struct BodyLimitEndpoint<E> {
    inner: E,
    max: u64,
}

#[derive(Debug, Default)]
struct Reading {
    read: AtomicU64,
    exceeded: AtomicBool,
    finished: AtomicBool,
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        if declared.is_some_and(|length| length > self.max) {
            return Ok(close(too_large(self.max).into_response()));
        }
        // Whether an unread rest could follow on this connection (HTTP/1.1 framing).
        let has_body = declared.is_some_and(|length| length > 0)
            || req.headers().contains_key(header::TRANSFER_ENCODING);
        let reading = Arc::new(Reading::default());
        {
            let stream = req.take_body().into_bytes_stream();
            let (max, state) = (self.max, reading.clone());
            let limited = futures_util::stream::unfold(Some(stream), move |stream| {
                let state = state.clone();
                async move {
                    let mut stream = stream?;
                    match stream.next().await {
                        None => {
                            state.finished.store(true, Ordering::SeqCst);
                            None
                        }
                        Some(Ok(chunk)) => {
                            let length = chunk.len() as u64;
                            let total = state.read.fetch_add(length, Ordering::SeqCst) + length;
                            if total > max {
                                state.exceeded.store(true, Ordering::SeqCst);
                                let err = io::Error::other(format!(
                                    "the request body is larger than {max} bytes"
                                ));
                                return Some((Err(err), None));
                            }
                            Some((Ok(chunk), Some(stream)))
                        }
                        Some(Err(err)) => Some((Err(err), None)),
                    }
                }
            });
            req.set_body(Body::from_bytes_stream(limited));
        }
        let response = self.inner.call(req).await.map(IntoResponse::into_response);
        if reading.exceeded.load(Ordering::SeqCst) {
            return Ok(close(too_large(self.max).into_response()));
        }
        let response = response?;
        if has_body && !reading.finished.load(Ordering::SeqCst) {
            return Ok(close(response));
        }
        Ok(response)
    }
}

fn too_large(max: u64) -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body-too-large",
        "Request body too large",
    )
    .with_detail(format!("the request body is larger than {max} bytes"))
    .with("max_bytes", max)
}

fn close(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

#[cfg(test)]
mod tests {
    use poem::test::TestClient;
    use poem::web::Json;
    use poem::{EndpointExt, Route, handler, post};
    use serde_json::Value;

    use super::*;

    #[handler]
    async fn echo(body: Body) -> poem::Result<String> {
        let bytes = body.into_bytes().await?;
        Ok(bytes.len().to_string())
    }

    #[handler]
    fn ignores_the_body() -> StatusCode {
        StatusCode::TOO_MANY_REQUESTS
    }

    #[handler]
    async fn json(Json(value): Json<Value>) -> String {
        value.to_string()
    }

    fn app() -> TestClient<impl Endpoint> {
        TestClient::new(
            Route::new()
                .at("/echo", post(echo))
                .at("/early", post(ignores_the_body))
                .at("/json", post(json))
                .with(BodyLimit::new(16)),
        )
    }

    fn chunked(bytes: &'static [u8]) -> Body {
        Body::from_bytes_stream(futures_util::stream::iter(
            bytes.chunks(4).map(|c| Ok::<_, io::Error>(c.to_vec())),
        ))
    }

    #[tokio::test]
    async fn a_body_within_the_limit_is_read_whole() {
        let response = app().post("/echo").body("0123456789abcdef").send().await;
        response.assert_status_is_ok();
        response.assert_text("16").await;
        let response = app()
            .post("/echo")
            .body(chunked(b"0123456789"))
            .send()
            .await;
        response.assert_status_is_ok();
        assert!(!response.0.headers().contains_key(header::CONNECTION));
    }

    #[tokio::test]
    async fn a_declared_length_above_the_limit_is_413_before_reading() {
        let response = app()
            .post("/echo")
            .header(header::CONTENT_LENGTH, "17")
            .body("0123456789abcdefg")
            .send()
            .await;
        response.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
        response.assert_header(header::CONNECTION, "close");
        response.assert_content_type(crate::problem::CONTENT_TYPE);
    }

    #[tokio::test]
    async fn a_streamed_body_growing_past_the_limit_is_413_whatever_the_handler_made_of_it() {
        for path in ["/echo", "/json"] {
            let response = app()
                .post(path)
                .content_type("application/json")
                .body(chunked(b"\"0123456789abcdefghijklmnop\""))
                .send()
                .await;
            response.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
            response.assert_header(header::CONNECTION, "close");
        }
    }

    #[tokio::test]
    async fn an_answer_that_left_the_body_unread_closes_the_connection() {
        let response = app()
            .post("/early")
            .header(header::CONTENT_LENGTH, "4")
            .body("0123")
            .send()
            .await;
        response.assert_status(StatusCode::TOO_MANY_REQUESTS);
        response.assert_header(header::CONNECTION, "close");
    }
}
