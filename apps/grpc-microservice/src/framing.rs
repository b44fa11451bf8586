//! The request's gRPC framing, checked while it streams in, and a client's mistakes
//! answered as client mistakes.
//!
//! A gRPC request body is a run of length-prefixed messages: a compressed flag (1
//! byte), the length (4 bytes, big-endian), then that many bytes of protobuf
//! (`PROTOCOL-HTTP2.md`). poem-grpc (0.5) reads them itself and answers every way
//! they can be wrong with `INTERNAL`: a body that ends inside a frame (`incomplete
//! request`), bytes that are no protobuf (prost's `failed to decode Protobuf
//! message`), a unary call without a message (`missing request message`); and it
//! has no message size limit, so a 4 GiB declared length is buffered as it arrives.
//!
//! `INTERNAL` is "reserved for serious errors": "some invariants expected by the
//! underlying system have been broken" (google/rpc/code.proto); dashboards and OBI's
//! `rpc_response_status_code` count it as the server's fault. grpc's
//! `doc/statuscodes.md` lists what its libraries generate: a message over the
//! configured limit is `RESOURCE_EXHAUSTED`, a request cardinality violation (a
//! method that takes exactly one message got another number) is `UNIMPLEMENTED` —
//! both followed here; for "error parsing request proto" the libraries answer
//! `INTERNAL`, and this server deliberately answers `INVALID_ARGUMENT` ("the client
//! specified an invalid argument"), as it does for a frame cut short or a compressed
//! flag without a negotiated `grpc-encoding`: the bytes are the client's mistake,
//! and a client mistake here is never `UNKNOWN` or `INTERNAL` (#21). An `INTERNAL`
//! that is not one of these stays `INTERNAL`.
//!
//! How, without decoding anything twice: [`Framing`] wraps the request body in a
//! scanner that reads only the 5-byte frame headers as the bytes pass (the payload is
//! skipped by arithmetic and handed on untouched) and refuses an oversized or
//! malformed frame at once, recording why in the call's [`Inbound`]. poem-grpc still
//! decodes each message once; when its answer is `INTERNAL`, in the headers of a
//! trailers-only answer or in a streamed answer's trailers, [`Framing`] replaces it
//! with what [`Inbound`] recorded, or with `INVALID_ARGUMENT` when the message is
//! prost's decode failure.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;
use poem::http::{HeaderMap, HeaderValue};
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response};
use poem_grpc::Code;

/// The largest message a client may send: gRPC's default receive limit (4 MiB).
pub const MAX_MESSAGE_BYTES: u32 = 4 * 1024 * 1024;

/// How prost's `DecodeError` begins when shown; poem-grpc puts it in the message of
/// the `INTERNAL` it answers for bytes that are no protobuf (a unit test pins it).
const PROST_DECODE_FAILURE: &str = "failed to decode Protobuf message";

/// Length of the frame header: compressed flag and message length.
const HEADER_LEN: usize = 5;

/// What the scanner saw of one call's request body.
#[derive(Debug, Default)]
pub struct Inbound {
    refused: OnceLock<(Code, String)>,
    messages: AtomicU32,
    ended: AtomicBool,
}

impl Inbound {
    fn refuse(&self, code: Code, message: String) -> io::Error {
        let error = io::Error::new(io::ErrorKind::InvalidData, message.clone());
        let _ = self.refused.set((code, message));
        error
    }

    /// The status a client mistake deserves instead of `INTERNAL` with `message`
    /// (percent-encoded as on the wire), if the `INTERNAL` was the client's doing.
    fn instead_of_internal(&self, message: &str) -> Option<(Code, String)> {
        if let Some(refused) = self.refused.get() {
            return Some(refused.clone());
        }
        let message = message.replace("%20", " ");
        if let Some(detail) = message.strip_prefix(PROST_DECODE_FAILURE) {
            return Some((
                Code::InvalidArgument,
                format!(
                    "the request message is not valid protobuf for this method{}",
                    detail.trim_end()
                ),
            ));
        }
        if self.ended.load(Ordering::Acquire) && self.messages.load(Ordering::Acquire) == 0 {
            return Some((
                Code::Unimplemented,
                "request cardinality violation: the method takes a request message and the call sent none".to_owned(),
            ));
        }
        None
    }

    /// Replaces an `INTERNAL` status in `headers` (a trailers-only answer's headers
    /// or a streamed answer's trailers) when the request was at fault.
    fn reclassify(&self, headers: &mut HeaderMap) {
        if headers.get("grpc-status").map(HeaderValue::as_bytes) != Some(b"13") {
            return;
        }
        let message = headers
            .get("grpc-message")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if let Some((code, message)) = self.instead_of_internal(message) {
            headers.insert("grpc-status", HeaderValue::from(code.as_u16()));
            if let Ok(value) = HeaderValue::from_str(&crate::guard::percent_encode(&message)) {
                headers.insert("grpc-message", value);
            }
        }
    }
}

/// The middleware; see the module docs. It belongs inside [`crate::guard::Guard`],
/// which has already answered HTTP 415 to anything that is not gRPC.
#[derive(Debug, Clone, Copy, Default)]
pub struct Framing;

impl<E: Endpoint> Middleware<E> for Framing {
    type Output = FramingEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        FramingEndpoint { inner }
    }
}

/// [`Framing`] around an endpoint.
#[derive(Debug)]
pub struct FramingEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for FramingEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Self::Output> {
        let inbound = Arc::new(Inbound::default());
        // A compressed message is one only with a `grpc-encoding` the server
        // accepts; poem-grpc refuses an encoding it does not serve (UNIMPLEMENTED,
        // as doc/statuscodes.md says) before it reads the body.
        let encoded = req.headers().contains_key("grpc-encoding");
        let body = Scanner::new(req.take_body().into(), inbound.clone(), encoded);
        req.set_body(Body::from(body.boxed()));
        let mut response = self.inner.call(req).await?.into_response();
        if response.headers().contains_key("grpc-status") {
            inbound.reclassify(response.headers_mut());
        } else {
            let body = Trailers {
                inner: response.take_body().into(),
                inbound,
            };
            response.set_body(Body::from(body.boxed()));
        }
        Ok(response)
    }
}

/// The request body, passed on unchanged while its frame headers are checked.
struct Scanner {
    inner: BoxBody<Bytes, io::Error>,
    inbound: Arc<Inbound>,
    compression_allowed: bool,
    header: [u8; HEADER_LEN],
    header_len: usize,
    payload_left: u32,
    failed: bool,
}

impl Scanner {
    fn new(inner: BoxBody<Bytes, io::Error>, inbound: Arc<Inbound>, compressed: bool) -> Self {
        Self {
            inner,
            inbound,
            compression_allowed: compressed,
            header: [0; HEADER_LEN],
            header_len: 0,
            payload_left: 0,
            failed: false,
        }
    }

    /// Follows the frames through `data`; the error is the call's refusal.
    fn scan(&mut self, mut data: &[u8]) -> Result<(), io::Error> {
        while !data.is_empty() {
            if self.payload_left > 0 {
                let take = data.len().min(self.payload_left as usize);
                data = &data[take..];
                self.payload_left -= take as u32;
                if self.payload_left == 0 {
                    self.inbound.messages.fetch_add(1, Ordering::AcqRel);
                }
                continue;
            }
            let take = data.len().min(HEADER_LEN - self.header_len);
            self.header[self.header_len..self.header_len + take].copy_from_slice(&data[..take]);
            self.header_len += take;
            data = &data[take..];
            if self.header_len < HEADER_LEN {
                return Ok(());
            }
            self.header_len = 0;
            self.frame_header()?;
        }
        Ok(())
    }

    fn frame_header(&mut self) -> Result<(), io::Error> {
        match self.header[0] {
            0 => {}
            1 if self.compression_allowed => {}
            1 => {
                return Err(self.inbound.refuse(
                    Code::InvalidArgument,
                    "a message is flagged compressed but the call declares no grpc-encoding"
                        .to_owned(),
                ));
            }
            flag => {
                return Err(self.inbound.refuse(
                    Code::InvalidArgument,
                    format!("invalid compressed flag {flag} in a message header (0 or 1)"),
                ));
            }
        }
        let length = u32::from_be_bytes([
            self.header[1],
            self.header[2],
            self.header[3],
            self.header[4],
        ]);
        if length > MAX_MESSAGE_BYTES {
            return Err(self.inbound.refuse(
                Code::ResourceExhausted,
                format!(
                    "the request message has {length} bytes; this server accepts at most {MAX_MESSAGE_BYTES}"
                ),
            ));
        }
        self.payload_left = length;
        if length == 0 {
            self.inbound.messages.fetch_add(1, Ordering::AcqRel);
        }
        Ok(())
    }

    /// The refusal of a body that ended inside a frame, if it did.
    fn truncated(&self) -> Option<io::Error> {
        let missing = if self.header_len > 0 {
            format!("its 5-byte message header after {} bytes", self.header_len)
        } else if self.payload_left > 0 {
            format!("its message {} bytes short", self.payload_left)
        } else {
            return None;
        };
        Some(self.inbound.refuse(
            Code::InvalidArgument,
            format!("the request body ended inside {missing}"),
        ))
    }
}

impl HttpBody for Scanner {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if this.failed {
            return Poll::Ready(None);
        }
        let frame = ready!(Pin::new(&mut this.inner).poll_frame(cx));
        let refusal = match &frame {
            Some(Ok(frame)) => frame.data_ref().and_then(|data| this.scan(data).err()),
            Some(Err(_)) => None,
            None => {
                this.inbound.ended.store(true, Ordering::Release);
                this.truncated()
            }
        };
        match refusal {
            Some(error) => {
                this.failed = true;
                Poll::Ready(Some(Err(error)))
            }
            None => Poll::Ready(frame),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.failed || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A streamed answer, whose `INTERNAL` trailers are reclassified like a
/// trailers-only answer's headers (a client-streaming or bidirectional call reads
/// its messages after the answer has begun).
struct Trailers {
    inner: BoxBody<Bytes, io::Error>,
    inbound: Arc<Inbound>,
}

impl HttpBody for Trailers {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        let frame = ready!(Pin::new(&mut this.inner).poll_frame(cx));
        Poll::Ready(frame.map(|frame| {
            frame.map(|frame| match frame.into_trailers() {
                Ok(mut trailers) => {
                    this.inbound.reclassify(&mut trailers);
                    Frame::trailers(trailers)
                }
                Err(frame) => frame,
            })
        }))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use prost::Message as _;

    use super::*;
    use crate::proto::GetStockRequest;

    fn scanner() -> Scanner {
        Scanner::new(
            http_body_util::Empty::new()
                .map_err(|never| match never {})
                .boxed(),
            Arc::new(Inbound::default()),
            false,
        )
    }

    #[test]
    fn frames_split_anywhere_are_followed() {
        let mut body = Vec::new();
        for message in [&b"abc"[..], b"", &[7; 300]] {
            body.push(0);
            body.extend(u32::try_from(message.len()).unwrap().to_be_bytes());
            body.extend(message);
        }
        for split in 0..body.len() {
            let mut s = scanner();
            s.scan(&body[..split]).unwrap();
            s.scan(&body[split..]).unwrap();
            assert!(s.truncated().is_none(), "split at {split}");
            assert_eq!(s.inbound.messages.load(Ordering::Acquire), 3);
        }
        let mut s = scanner();
        s.scan(&body[..body.len() - 1]).unwrap();
        assert!(s.truncated().is_some());
    }

    #[test]
    fn an_oversized_length_is_refused_from_its_header() {
        let mut s = scanner();
        let mut header = vec![0];
        header.extend((MAX_MESSAGE_BYTES + 1).to_be_bytes());
        assert!(s.scan(&header).is_err());
        assert_eq!(
            s.inbound.refused.get().map(|r| r.0),
            Some(Code::ResourceExhausted)
        );
    }

    #[test]
    fn prost_still_says_what_a_decode_failure_is_recognised_by() {
        let err = GetStockRequest::decode(&[0xff_u8, 0xff, 0xff, 0xff][..]).unwrap_err();
        assert!(
            err.to_string().starts_with(PROST_DECODE_FAILURE),
            "{err}: update PROST_DECODE_FAILURE"
        );
    }

    #[test]
    fn only_a_clients_internal_is_reclassified() {
        let inbound = Inbound::default();
        let mut headers = HeaderMap::new();
        headers.insert("grpc-status", HeaderValue::from_static("13"));
        headers.insert("grpc-message", HeaderValue::from_static("store%20broken"));
        inbound.reclassify(&mut headers);
        assert_eq!(headers["grpc-status"], "13");
        headers.insert(
            "grpc-message",
            HeaderValue::from_static("failed%20to%20decode%20Protobuf%20message:%20x"),
        );
        inbound.reclassify(&mut headers);
        assert_eq!(headers["grpc-status"], "3");
    }
}
