//! Hop 4, kafka-streaming over HTTP: the `order_placed` event (`POST /api/v1/events`,
//! answered after the broker's ack; its worker consumes it). The event id is the
//! order's, so a retried checkout's second event is skipped by the worker.

use serde_json::{Value, json};

use super::{Forwarded, Hop, HopError, answered, base, http_client, unreachable};
use crate::settings::HttpHop;

/// The event type of a placed order.
pub const ORDER_PLACED: &str = "order_placed";

/// kafka-streaming's events API.
#[derive(Debug, Clone)]
pub struct EventsClient {
    base: String,
    client: reqwest::Client,
}

/// The event id of order `order_id`.
pub fn event_id(order_id: i64) -> String {
    format!("order-{order_id}")
}

impl EventsClient {
    /// A client for `hop`.
    pub fn new(hop: &HttpHop) -> anyhow::Result<Self> {
        Ok(Self {
            base: base(&hop.url),
            client: http_client(hop)?,
        })
    }

    /// Publishes `order_placed` for order `order_id` with `payload`.
    pub async fn order_placed(
        &self,
        order_id: i64,
        payload: Value,
        fault: &Forwarded,
    ) -> Result<(), HopError> {
        let request = self.client.post(format!("{}/api/v1/events", self.base));
        let response = fault
            .apply(Hop::Events, request)
            .json(&json!({
                "id": event_id(order_id),
                "type": ORDER_PLACED,
                "source": "checkout",
                "payload": payload,
            }))
            .send()
            .await
            .map_err(|err| unreachable(Hop::Events, &err))?;
        if response.status().is_success() {
            Ok(())
        } else {
            // A refused event is our bug, not the shopper's: an outage to them.
            match answered(Hop::Events, response).await {
                HopError::Refused { detail, status, .. } => Err(HopError::unavailable(
                    Hop::Events,
                    format!("refused the event ({status}): {detail}"),
                )),
                other => Err(other),
            }
        }
    }
}
