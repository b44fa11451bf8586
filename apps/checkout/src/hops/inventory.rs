//! Hop 2, grpc-microservice over unary gRPC (h2c): `inventory.v1.Inventory/Reserve`
//! per cart line, and `Release` to give a reservation back when the checkout fails
//! after it (the compensation). Each call is bounded by `hops.inventory.timeout`.
//! The client (one HTTP/2 connection) is replaced once `max_connection_age` old, so
//! that an OBI started after checkout sees a connection set up, and the method
//! names on it, within minutes (obi-telemetry.md: a connection opened before OBI
//! shows `*` for its methods).

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem_grpc::{ClientConfig, Code, Request, Status};

use super::{Hop, HopError};
use crate::proto::{InventoryClient as Generated, ReleaseRequest, ReserveRequest};
use crate::settings::GrpcHop;

/// A held reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// Inventory's id of it.
    pub id: String,
    /// The SKU.
    pub sku: String,
    /// Units.
    pub quantity: i32,
}

/// grpc-microservice's inventory. Cheap to clone.
#[derive(Clone)]
pub struct InventoryClient {
    url: Arc<str>,
    current: Arc<Mutex<(Generated, Instant)>>,
    max_age: Duration,
    timeout: Duration,
    ttl_ms: u32,
}

impl std::fmt::Debug for InventoryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InventoryClient")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl InventoryClient {
    /// A client for `hop` (nothing connects before the first call).
    pub fn new(hop: &GrpcHop) -> anyhow::Result<Self> {
        Ok(Self {
            current: Arc::new(Mutex::new((connect(&hop.url)?, Instant::now()))),
            url: hop.url.as_str().into(),
            max_age: hop.max_connection_age,
            timeout: hop.timeout,
            ttl_ms: u32::try_from(hop.reservation_ttl.as_millis()).unwrap_or(u32::MAX),
        })
    }

    /// Holds `quantity` units of `sku`. Too few available (`FAILED_PRECONDITION`) or
    /// an unknown SKU (`NOT_FOUND`) are refusals (status 409 or 404); anything else
    /// is an outage.
    pub async fn reserve(&self, sku: &str, quantity: i32) -> Result<Held, HopError> {
        let request = Request::new(ReserveRequest {
            sku: sku.to_owned(),
            quantity,
            ttl_ms: self.ttl_ms,
        });
        let reservation = self
            .bounded(self.client().reserve(request))
            .await?
            .into_inner();
        Ok(Held {
            id: reservation.reservation_id,
            sku: reservation.sku,
            quantity: reservation.quantity,
        })
    }

    /// Gives `held` back. An unknown or expired reservation is already given back.
    pub async fn release(&self, held: &Held) -> Result<(), HopError> {
        let request = Request::new(ReleaseRequest {
            reservation_id: held.id.clone(),
        });
        match self.bounded(self.client().release(request)).await {
            Ok(_) => Ok(()),
            Err(HopError::Refused { status: 404, .. }) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// The client to call with: the current one, or a fresh one (a new connection)
    /// once the current one is `max_age` old; calls still on the old one finish.
    fn client(&self) -> Generated {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if current.1.elapsed() >= self.max_age {
            tracing::debug!(max_age = ?self.max_age, "recycling the inventory connection");
            match connect(&self.url) {
                Ok(client) => *current = (client, Instant::now()),
                Err(err) => tracing::warn!(error = %err, "cannot recycle the inventory client"),
            }
        }
        current.0.clone()
    }

    /// `call` within the hop's timeout, its status mapped.
    async fn bounded<T>(
        &self,
        call: impl Future<Output = Result<T, Status>>,
    ) -> Result<T, HopError> {
        match tokio::time::timeout(self.timeout, call).await {
            Err(_) => Err(HopError::unavailable(
                Hop::Inventory,
                format!("no answer within {:?}", self.timeout),
            )),
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(status)) => Err(mapped(&status)),
        }
    }
}

/// A client of `url` (nothing connects before its first call).
fn connect(url: &str) -> anyhow::Result<Generated> {
    Ok(Generated::new(ClientConfig::builder().uri(url).build()?))
}

/// A gRPC status as a hop error: the statuses about this request are refusals.
fn mapped(status: &Status) -> HopError {
    let detail = status.message().unwrap_or("no message").to_owned();
    let (http, kind) = match status.code() {
        Code::FailedPrecondition => (409, "out-of-stock"),
        Code::NotFound => (404, "unknown-sku"),
        Code::InvalidArgument => (422, "invalid-reservation"),
        code => {
            return HopError::unavailable(Hop::Inventory, format!("{code:?}: {detail}"));
        }
    };
    HopError::Refused {
        hop: Hop::Inventory,
        status: http,
        kind: Some(kind.to_owned()),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_about_the_request_are_refusals_and_the_rest_outages() {
        let refused = mapped(&Status::new(Code::FailedPrecondition).with_message("2 left"));
        assert!(matches!(refused, HopError::Refused { status: 409, .. }));
        assert!(matches!(
            mapped(&Status::new(Code::Unavailable)),
            HopError::Unavailable {
                hop: Hop::Inventory,
                ..
            }
        ));
        assert!(matches!(
            mapped(&Status::new(Code::DeadlineExceeded)),
            HopError::Unavailable { .. }
        ));
    }
}
