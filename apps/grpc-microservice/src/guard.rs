//! The gRPC-aware front of the inventory service, as a poem middleware: the
//! in-flight limit (RESOURCE_EXHAUSTED), the caller's `grpc-timeout` deadline
//! (DEADLINE_EXCEEDED), and the kit's fault model (`x-fault-*` headers, latency,
//! error statuses mapped to gRPC codes, `deadline_storm`). Everything it refuses is
//! a proper gRPC status, never an HTTP error page. Health and reflection pass through.
//!
//! The deadline is the caller's timeout minus `grpc.deadline_margin`: answered at
//! the caller's own deadline, the status races the caller's cancellation
//! (RST_STREAM), and a call cancelled before any response HEADERS leaves the caller
//! without a status and OBI without a span.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use poem::http::{HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use poem_grpc::Code;
use service_kit::faults::{Decision, Faults, headers};
use tokio::sync::Semaphore;

use crate::details::{DETAILS_HEADER, DetailsSlot};
use crate::scenarios::{DEADLINE_STORM, grpc_code};

/// The path prefix of the inventory service's methods.
pub const INVENTORY_PREFIX: &str = "/inventory.v1.Inventory/";

/// When the caller stops waiting (from `grpc-timeout`), in the call's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(pub Option<Instant>);

/// The middleware; see the module docs.
#[derive(Debug, Clone)]
pub struct Guard {
    faults: Faults,
    slots: Arc<Semaphore>,
    storm_delay: Duration,
    deadline_margin: Duration,
}

impl Guard {
    /// A guard admitting `max_in_flight` inventory calls at once and answering
    /// DEADLINE_EXCEEDED `deadline_margin` before a caller's deadline.
    pub fn new(
        faults: Faults,
        max_in_flight: usize,
        storm_delay: Duration,
        deadline_margin: Duration,
    ) -> Self {
        Self {
            faults,
            slots: Arc::new(Semaphore::new(max_in_flight)),
            storm_delay,
            deadline_margin,
        }
    }
}

impl<E: Endpoint> Middleware<E> for Guard {
    type Output = GuardEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        GuardEndpoint {
            inner,
            guard: self.clone(),
        }
    }
}

/// [`Guard`] around an endpoint.
#[derive(Debug)]
pub struct GuardEndpoint<E> {
    inner: E,
    guard: Guard,
}

impl<E: Endpoint> Endpoint for GuardEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Self::Output> {
        // gRPC's HTTP/2 mapping: a request that is not gRPC gets HTTP 415 (so no
        // plain HTTP client mistakes a gRPC error, which is HTTP 200, for success),
        // and a gRPC call of a method nobody serves is UNIMPLEMENTED, not a 404 page.
        if let Some(refused) = not_grpc(&req) {
            return Ok(refused);
        }
        if !req.uri().path().starts_with(INVENTORY_PREFIX) {
            let path = req.uri().path().to_owned();
            return Ok(unimplemented_if_unrouted(self.inner.call(req).await, &path));
        }
        let Ok(_permit) = self.guard.slots.clone().try_acquire_owned() else {
            return Ok(status(
                Code::ResourceExhausted,
                "too many calls in flight; retry with backoff",
            ));
        };
        let path = req.uri().path().to_owned();
        let started = Instant::now();
        let deadline = req
            .headers()
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_timeout)
            .map(|timeout| started + answer_within(timeout, self.guard.deadline_margin));
        let requested = match headers::parse(req.headers(), &self.guard.faults) {
            Ok(requested) => requested,
            Err(err) if err.forbidden => {
                return Ok(status(Code::PermissionDenied, &err.to_string()));
            }
            Err(err) => return Ok(status(Code::InvalidArgument, &err.to_string())),
        };
        let decision = self.guard.faults.decide(requested);
        let slot = DetailsSlot::default();
        req.extensions_mut().insert(Deadline(deadline));
        req.extensions_mut().insert(slot.clone());
        req.extensions_mut().insert(decision.clone());

        let work = self.faulty_call(req, &decision);
        let outcome = match deadline {
            Some(at) => {
                match tokio::time::timeout_at(tokio::time::Instant::from_std(at), work).await {
                    Ok(outcome) => outcome,
                    Err(_) => {
                        return Ok(status(Code::DeadlineExceeded, "deadline exceeded"));
                    }
                }
            }
            None => work.await,
        };
        let mut response = unimplemented_if_unrouted(outcome, &path);
        if let Some(details) = slot.take() {
            let encoded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(details);
            if let Ok(value) = HeaderValue::from_str(&encoded) {
                response.headers_mut().insert(DETAILS_HEADER, value);
            }
        }
        Ok(response)
    }
}

impl<E: Endpoint> GuardEndpoint<E> {
    async fn faulty_call(&self, req: Request, decision: &Decision) -> poem::Result<Response> {
        if let Some(delay) = decision.delay {
            tokio::time::sleep(delay).await;
        }
        if decision.is_active(DEADLINE_STORM) {
            tokio::time::sleep(self.guard.storm_delay).await;
        }
        if let Some(error) = decision.error {
            return Ok(status(grpc_code(error), &fault_message(error)));
        }
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}

/// The HTTP 415 a request gets when its content type is not gRPC's (protobuf, the
/// one codec served): `application/grpc` or `application/grpc+proto`.
fn not_grpc(req: &Request) -> Option<Response> {
    let content_type = req
        .headers()
        .get(poem::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "application/grpc" || essence == "application/grpc+proto" {
        return None;
    }
    let shown = if content_type.is_empty() {
        "no content type".to_owned()
    } else {
        format!("content type `{}`", content_type.escape_debug())
    };
    Some(
        Response::builder()
            .status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
            .content_type("text/plain; charset=utf-8")
            .header("accept", "application/grpc, application/grpc+proto")
            .body(format!(
                "a gRPC call needs content type application/grpc (protobuf); this request has {shown}\n"
            )),
    )
}

/// The inner answer, except that a path no service routes (poem's 404) becomes
/// the gRPC status UNIMPLEMENTED naming the method.
fn unimplemented_if_unrouted<T: IntoResponse>(outcome: poem::Result<T>, path: &str) -> Response {
    let not_found = |status: StatusCode| status == StatusCode::NOT_FOUND;
    match outcome {
        Ok(response) => {
            let response = response.into_response();
            if not_found(response.status()) {
                unimplemented(path)
            } else {
                response
            }
        }
        Err(err) if not_found(err.status()) => unimplemented(path),
        Err(err) => err.into_response(),
    }
}

fn unimplemented(path: &str) -> Response {
    let shown: String = path.chars().take(200).collect();
    status(
        Code::Unimplemented,
        &format!(
            "unknown method `{shown}`: this server serves inventory.v1.Inventory, grpc.health.v1.Health and reflection"
        ),
    )
}

fn fault_message(error: StatusCode) -> String {
    format!("injected fault: {error}")
}

/// A trailers-only gRPC response carrying `code` and `message`.
pub fn status(code: Code, message: &str) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .content_type("application/grpc")
        .header("grpc-status", code.as_u16())
        .header("grpc-message", percent_encode(message))
        .finish()
}

pub(crate) fn percent_encode(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for byte in message.bytes() {
        if (0x20..0x7f).contains(&byte) && byte != b'%' {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// How long the server works on a call with `timeout` before it answers
/// DEADLINE_EXCEEDED: `margin` less, but never less than half the timeout (a
/// 100 ms caller still gets 50 ms of work).
pub fn answer_within(timeout: Duration, margin: Duration) -> Duration {
    timeout - margin.min(timeout / 2)
}

/// Parses a `grpc-timeout` value: up to 8 digits and a unit (H, M, S, m, u, n).
pub fn parse_timeout(value: &str) -> Option<Duration> {
    let value = value.trim();
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.checked_mul(3600)?),
        "M" => Duration::from_secs(amount.checked_mul(60)?),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse() {
        assert_eq!(parse_timeout("100m"), Some(Duration::from_millis(100)));
        assert_eq!(parse_timeout("2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_timeout("3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse_timeout("5u"), Some(Duration::from_micros(5)));
        assert_eq!(parse_timeout("7n"), Some(Duration::from_nanos(7)));
        assert_eq!(parse_timeout("10x"), None);
        assert_eq!(parse_timeout("m"), None);
        assert_eq!(parse_timeout("123456789S"), None);
    }

    #[test]
    fn the_answer_comes_a_margin_before_the_deadline_but_after_half_of_it() {
        let margin = Duration::from_millis(50);
        assert_eq!(
            answer_within(Duration::from_secs(1), margin),
            Duration::from_millis(950)
        );
        assert_eq!(
            answer_within(Duration::from_millis(60), margin),
            Duration::from_millis(30)
        );
        assert_eq!(
            answer_within(Duration::from_secs(1), Duration::ZERO),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn messages_are_percent_encoded() {
        assert_eq!(percent_encode("a b%c\n"), "a b%25c%0A");
    }
}
