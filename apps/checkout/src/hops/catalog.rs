//! Hop 5, http-rest-api over HTTP: the catalog's details (name, category) of the
//! ordered SKUs for the receipt, in one `GET /api/v1/products?sku=...&sku=...`.

use serde::Deserialize;

use super::{Forwarded, Hop, HopError, answered, base, http_client, unreachable};
use crate::settings::HttpHop;

/// A product as the catalog describes it (the fields the receipt shows).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CatalogProduct {
    /// Its SKU.
    pub sku: String,
    /// Display name.
    pub name: String,
    /// Category.
    pub category: String,
}

#[derive(Debug, Deserialize)]
struct Page {
    items: Vec<CatalogProduct>,
}

/// http-rest-api's product list.
#[derive(Debug, Clone)]
pub struct CatalogClient {
    base: String,
    client: reqwest::Client,
}

impl CatalogClient {
    /// A client for `hop`.
    pub fn new(hop: &HttpHop) -> anyhow::Result<Self> {
        Ok(Self {
            base: base(&hop.url),
            client: http_client(hop)?,
        })
    }

    /// The catalog's products among `skus` (at most 100; unknown ones are absent).
    pub async fn products(
        &self,
        skus: &[&str],
        fault: &Forwarded,
    ) -> Result<Vec<CatalogProduct>, HopError> {
        let mut query: Vec<(&str, &str)> = skus.iter().map(|sku| ("sku", *sku)).collect();
        let limit = skus.len().clamp(1, 100).to_string();
        query.push(("limit", &limit));
        let request = self.client.get(format!("{}/api/v1/products", self.base));
        let response = fault
            .apply(Hop::Catalog, request)
            .query(&query)
            .send()
            .await
            .map_err(|err| unreachable(Hop::Catalog, &err))?;
        if !response.status().is_success() {
            return Err(match answered(Hop::Catalog, response).await {
                HopError::Refused { status, detail, .. } => HopError::unavailable(
                    Hop::Catalog,
                    format!("refused the lookup ({status}): {detail}"),
                ),
                other => other,
            });
        }
        let page: Page = response.json().await.map_err(|err| {
            HopError::unavailable(Hop::Catalog, format!("unreadable products: {err}"))
        })?;
        Ok(page.items)
    }
}
