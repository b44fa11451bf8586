//! The slow source of truth the cache sits in front of: sql-application's HTTP API
//! when `origin.url` is set, else a built-in catalog with configurable latency.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use crate::settings::OriginSettings;

/// A product as the origin has it.
#[derive(Debug, Clone, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct Product {
    /// Id.
    pub id: i64,
    /// Stock-keeping unit.
    pub sku: String,
    /// Display name.
    pub name: String,
    /// Unit price in cents.
    pub price_cents: i64,
    /// Units in stock.
    pub stock: i32,
}

/// Why the origin could not answer.
#[derive(Debug, Clone, thiserror::Error)]
#[error("origin failed: {0}")]
pub struct OriginError(pub String);

/// The origin, cheap to clone.
#[derive(Debug, Clone)]
pub struct Origin {
    kind: Arc<Kind>,
    calls: Arc<AtomicU64>,
}

#[derive(Debug)]
enum Kind {
    Builtin {
        latency: Duration,
        products: i64,
        prices: Mutex<HashMap<i64, i64>>,
    },
    Http {
        base: String,
        client: reqwest::Client,
    },
}

impl Origin {
    /// The origin `settings` describe.
    pub fn new(settings: &OriginSettings) -> anyhow::Result<Self> {
        let kind = if settings.url.is_empty() {
            Kind::Builtin {
                latency: settings.latency,
                products: settings.products,
                prices: Mutex::new(HashMap::new()),
            }
        } else {
            Kind::Http {
                base: settings.url.trim_end_matches('/').to_owned(),
                client: reqwest::Client::builder()
                    .timeout(settings.timeout)
                    .build()?,
            }
        };
        Ok(Self {
            kind: Arc::new(kind),
            calls: Arc::default(),
        })
    }

    /// Calls made so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The product, or `None` when the origin has no such id.
    pub async fn product(&self, id: i64) -> Result<Option<Product>, OriginError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        match &*self.kind {
            Kind::Builtin {
                latency,
                products,
                prices,
            } => {
                tokio::time::sleep(*latency).await;
                if !(1..=*products).contains(&id) {
                    return Ok(None);
                }
                let price = lock(prices).get(&id).copied();
                Ok(Some(builtin(id, price)))
            }
            Kind::Http { base, client } => {
                let response = client
                    .get(format!("{base}/api/v1/products/{id}"))
                    .send()
                    .await
                    .map_err(|err| OriginError(err.to_string()))?;
                match response.status().as_u16() {
                    200 => response
                        .json()
                        .await
                        .map(Some)
                        .map_err(|err| OriginError(err.to_string())),
                    404 => Ok(None),
                    status => Err(OriginError(format!("origin answered {status}"))),
                }
            }
        }
    }

    /// Changes a product's price; `None` when there is no such product.
    pub async fn set_price(
        &self,
        id: i64,
        price_cents: i64,
    ) -> Result<Option<Product>, OriginError> {
        match &*self.kind {
            Kind::Builtin { .. } => {
                let Some(mut product) = self.product(id).await? else {
                    return Ok(None);
                };
                if let Kind::Builtin { prices, .. } = &*self.kind {
                    lock(prices).insert(id, price_cents);
                }
                product.price_cents = price_cents;
                Ok(Some(product))
            }
            Kind::Http { base, client } => {
                let Some(mut product) = self.product(id).await? else {
                    return Ok(None);
                };
                product.price_cents = price_cents;
                self.calls.fetch_add(1, Ordering::Relaxed);
                let response = client
                    .put(format!("{base}/api/v1/products/{id}"))
                    .json(&serde_json::json!({
                        "sku": product.sku, "name": product.name,
                        "price_cents": price_cents, "stock": product.stock,
                    }))
                    .send()
                    .await
                    .map_err(|err| OriginError(err.to_string()))?;
                match response.status().as_u16() {
                    200 => Ok(Some(product)),
                    404 => Ok(None),
                    status => Err(OriginError(format!("origin answered {status}"))),
                }
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The built-in catalog's product `id`.
fn builtin(id: i64, price: Option<i64>) -> Product {
    Product {
        id,
        sku: format!("SKU-{id:06}"),
        name: format!("Product {id}"),
        price_cents: price.unwrap_or(100 + (id * 37) % 9900),
        stock: i32::try_from(id % 500).unwrap_or(0),
    }
}
