//! Hop 1, redis-cache over HTTP: the shopper's cart, read with their session token
//! (`GET /api/v1/sessions/me/cart`; Redis behind it).

use serde::Deserialize;

use super::{Forwarded, Hop, HopError, answered, base, http_client, unreachable};
use crate::settings::HttpHop;

/// One line of a cart, as redis-cache stores it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CartLine {
    /// sql-application's product id.
    pub product_id: i64,
    /// The SKU inventory and the catalog know it by.
    pub sku: String,
    /// Units.
    pub quantity: i32,
}

/// A cart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Cart {
    /// Its lines, as the storefront put them.
    pub items: Vec<CartLine>,
}

/// redis-cache's cart API.
#[derive(Debug, Clone)]
pub struct CartClient {
    base: String,
    client: reqwest::Client,
}

impl CartClient {
    /// A client for `hop`.
    pub fn new(hop: &HttpHop) -> anyhow::Result<Self> {
        Ok(Self {
            base: base(&hop.url),
            client: http_client(hop)?,
        })
    }

    /// The cart of the session `token`; a 401 (no such session) is a refusal.
    pub async fn get(&self, token: &str, fault: &Forwarded) -> Result<Cart, HopError> {
        let request = self
            .client
            .get(format!("{}/api/v1/sessions/me/cart", self.base));
        let response = fault
            .apply(Hop::Cart, request)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|err| unreachable(Hop::Cart, &err))?;
        if !response.status().is_success() {
            return Err(answered(Hop::Cart, response).await);
        }
        response
            .json()
            .await
            .map_err(|err| HopError::unavailable(Hop::Cart, format!("unreadable cart: {err}")))
    }
}
