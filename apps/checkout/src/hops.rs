//! The journey's five downstream calls, one module per hop, and what they share: the
//! [`Hop`] names, the one HTTP client per hop (its own pool and timeouts, no
//! retries) and [`HopError`], which says whether the downstream refused the request
//! (its answer) or could not be reached in time (an outage).

pub mod cart;
pub mod catalog;
pub mod events;
pub mod inventory;
pub mod orders;

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::settings::HttpHop;

/// A downstream of the journey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Hop {
    /// redis-cache: the cart.
    Cart,
    /// grpc-microservice: reservations.
    Inventory,
    /// sql-application: the order.
    Orders,
    /// kafka-streaming: the `order_placed` event.
    Events,
    /// http-rest-api: the receipt's product details.
    Catalog,
}

impl Hop {
    /// The app behind the hop, as problem+json names it (`dependency`).
    pub fn service(self) -> &'static str {
        match self {
            Self::Cart => "redis-cache",
            Self::Inventory => "grpc-microservice",
            Self::Orders => "sql-application",
            Self::Events => "kafka-streaming",
            Self::Catalog => "http-rest-api",
        }
    }
}

/// The kit's fault headers checkout forwards to one hop on one checkout (the
/// `slow_hop` and `broken_hop` scenarios), with that app's admin token; none by
/// default.
#[derive(Debug, Clone, Default)]
pub struct Forwarded {
    hop: Option<Hop>,
    headers: Vec<(&'static str, String)>,
}

impl Forwarded {
    /// Nothing forwarded.
    pub fn none() -> Self {
        Self::default()
    }

    /// `hop` is asked to answer `delay` later.
    pub fn delay(hop: Hop, delay: Duration, token: &str) -> Self {
        Self::to(
            hop,
            "x-fault-delay",
            format!("{}ms", delay.as_millis()),
            token,
        )
    }

    /// `hop` is asked to fail with `status`.
    pub fn error(hop: Hop, status: u16, token: &str) -> Self {
        Self::to(hop, "x-fault-error", status.to_string(), token)
    }

    fn to(hop: Hop, header: &'static str, value: String, token: &str) -> Self {
        Self {
            hop: Some(hop),
            headers: vec![(header, value), ("x-fault-token", token.to_owned())],
        }
    }

    /// The hop asked, if any.
    pub fn hop(&self) -> Option<Hop> {
        self.hop
    }

    /// `request` to `hop`, with the headers if they are for it.
    fn apply(&self, hop: Hop, mut request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if self.hop == Some(hop) {
            for (name, value) in &self.headers {
                request = request.header(*name, value);
            }
        }
        request
    }
}

/// Why a hop failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HopError {
    /// Unreachable, too slow, or it failed on its side (5xx, an unexpected answer).
    #[error("{} is unavailable: {detail}", hop.service())]
    Unavailable {
        /// Which.
        hop: Hop,
        /// What happened.
        detail: String,
    },
    /// It answered that this request cannot be done (a 4xx, or the gRPC status).
    #[error("{} refused: {detail}", hop.service())]
    Refused {
        /// Which.
        hop: Hop,
        /// Its status (HTTP, or the gRPC code).
        status: u16,
        /// Its problem type (`urn:obi-examples:problem:<kind>`), when it sent one.
        kind: Option<String>,
        /// Its explanation.
        detail: String,
    },
}

impl HopError {
    /// An outage of `hop`.
    pub fn unavailable(hop: Hop, detail: impl std::fmt::Display) -> Self {
        Self::Unavailable {
            hop,
            detail: detail.to_string(),
        }
    }

    /// The hop that failed.
    pub fn hop(&self) -> Hop {
        match self {
            Self::Unavailable { hop, .. } | Self::Refused { hop, .. } => *hop,
        }
    }
}

/// One HTTP client for `hop`: its pool and timeouts, plaintext, no redirects. reqwest
/// never retries a request that reached the server, so a slow hop is waited for once.
pub fn http_client(hop: &HttpHop) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .connect_timeout(hop.connect_timeout)
        .timeout(hop.timeout)
        .pool_max_idle_per_host(hop.max_idle_connections)
        .pool_idle_timeout(hop.idle_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// `base` without its trailing `/`.
fn base(url: &str) -> String {
    url.trim_end_matches('/').to_owned()
}

/// The error for a non-success `response` of `hop`: a 5xx (or anything unexpected) is
/// an outage, a 4xx a refusal carrying the downstream's problem type and detail.
async fn answered(hop: Hop, response: reqwest::Response) -> HopError {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let detail = body["detail"]
        .as_str()
        .or_else(|| body["title"].as_str())
        .unwrap_or("no detail")
        .to_owned();
    if status.is_client_error() {
        HopError::Refused {
            hop,
            status: status.as_u16(),
            kind: body["type"].as_str().map(str::to_owned),
            detail,
        }
    } else {
        HopError::unavailable(hop, format!("answered {status}: {detail}"))
    }
}

/// The error for a request of `hop` that got no answer (refused, reset, timed out).
fn unreachable(hop: Hop, err: &reqwest::Error) -> HopError {
    let what = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    HopError::unavailable(hop, format!("{what}: {err}"))
}
