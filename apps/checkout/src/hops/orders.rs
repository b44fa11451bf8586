//! Hop 3, sql-application over HTTP: the order, placed in one PostgreSQL transaction
//! (`POST /api/v1/orders`) under the checkout's own `Idempotency-Key`, so that a
//! retried checkout never places a second order.

use serde::Deserialize;
use serde_json::json;

use super::cart::CartLine;
use super::{Forwarded, Hop, HopError, answered, base, http_client, unreachable};
use crate::settings::HttpHop;

/// One line of a placed order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderItem {
    /// The product.
    pub product_id: i64,
    /// Units.
    pub quantity: i32,
    /// Price per unit when ordered.
    pub unit_price_cents: i64,
}

/// A placed order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Order {
    /// sql-application's id.
    pub id: i64,
    /// Who ordered.
    pub customer_id: i64,
    /// The sum of its lines.
    pub total_cents: i64,
    /// Its lines.
    pub items: Vec<OrderItem>,
}

/// sql-application's orders API.
#[derive(Debug, Clone)]
pub struct OrdersClient {
    base: String,
    client: reqwest::Client,
}

impl OrdersClient {
    /// A client for `hop`.
    pub fn new(hop: &HttpHop) -> anyhow::Result<Self> {
        Ok(Self {
            base: base(&hop.url),
            client: http_client(hop)?,
        })
    }

    /// Places `customer_id`'s order of `lines` under `key`; a 4xx (unknown customer
    /// or product, too little stock, a key reused with another cart) is a refusal.
    pub async fn place(
        &self,
        key: &str,
        customer_id: i64,
        lines: &[CartLine],
        fault: &Forwarded,
    ) -> Result<Order, HopError> {
        let items: Vec<_> = lines
            .iter()
            .map(|line| json!({"product_id": line.product_id, "quantity": line.quantity}))
            .collect();
        let request = self.client.post(format!("{}/api/v1/orders", self.base));
        let response = fault
            .apply(Hop::Orders, request)
            .header("idempotency-key", key)
            .json(&json!({"customer_id": customer_id, "items": items}))
            .send()
            .await
            .map_err(|err| unreachable(Hop::Orders, &err))?;
        if !response.status().is_success() {
            return Err(answered(Hop::Orders, response).await);
        }
        response
            .json()
            .await
            .map_err(|err| HopError::unavailable(Hop::Orders, format!("unreadable order: {err}")))
    }
}
