//! The checkout itself: claim the idempotency key, then the five hops in order —
//! cart, reservations, order, event, catalog — and the compensation: any failure
//! after the first reservation gives every reservation back before answering. Every
//! step after the reservations is idempotent downstream (the order on the key, the
//! event on the order's id), so a failed checkout is retried with the same key.

use std::sync::Arc;

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::hops::cart::{CartClient, CartLine};
use crate::hops::catalog::CatalogClient;
use crate::hops::events::{EventsClient, event_id};
use crate::hops::inventory::{Held, InventoryClient};
use crate::hops::orders::OrdersClient;
use crate::hops::{Forwarded, Hop, HopError};
use crate::receipt::{Receipt, Record};
use crate::settings::{IdempotencySettings, Settings};
use crate::store::Store;

/// The client's `Idempotency-Key` as its session's: the hex SHA-256 of the session
/// token and the key. A stored answer is replayed only to the session whose
/// checkout it is (a client that knows or guesses another's key gets nothing: an
/// unknown session still gets its 401 from the cart hop), two sessions never share a
/// checkout for choosing the same key, and neither the token nor the client's key
/// string ends up in a Redis key or in sql-application's idempotency records.
pub fn scoped_key(token: &str, key: &str) -> String {
    let digest = Sha256::new()
        .chain_update(token.as_bytes())
        .chain_update([0])
        .chain_update(key.as_bytes())
        .finalize();
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// How a checkout ended well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// This request placed the order.
    Placed(Receipt),
    /// An earlier request with the key did; its answer again.
    Replayed(Receipt),
}

/// The journey's clients and store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Journey {
    store: Store,
    cart: CartClient,
    inventory: InventoryClient,
    orders: OrdersClient,
    events: EventsClient,
    catalog: CatalogClient,
    idempotency: Arc<IdempotencySettings>,
}

impl Journey {
    /// The journey `settings` describe (nothing connects yet).
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        let hops = &settings.hops;
        Ok(Self {
            store: Store::new(&settings.redis)?,
            cart: CartClient::new(&hops.cart)?,
            inventory: InventoryClient::new(&hops.inventory)?,
            orders: OrdersClient::new(&hops.orders)?,
            events: EventsClient::new(&hops.events)?,
            catalog: CatalogClient::new(&hops.catalog)?,
            idempotency: Arc::new(settings.idempotency.clone()),
        })
    }

    /// The idempotency store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Checks out the cart of session `token` for `customer_id`, once per `key` of
    /// that session; `fault` is forwarded to its hop (the `slow_hop` and
    /// `broken_hop` scenarios).
    pub async fn checkout(
        &self,
        key: &str,
        token: &str,
        customer_id: i64,
        fault: &Forwarded,
    ) -> Result<Outcome, ApiError> {
        let key = &scoped_key(token, key);
        let running = Record::Running { customer_id }.to_json();
        if let Some(existing) = self
            .store
            .claim(key, &running, self.idempotency.in_progress_ttl)
            .await?
        {
            return match Record::from_json(&existing) {
                Some(record) if record.customer_id() != customer_id => Err(ApiError::KeyReused),
                Some(Record::Done { receipt, .. }) => Ok(Outcome::Replayed(receipt)),
                Some(Record::Running { .. }) => Err(ApiError::InProgress),
                None => Err(ApiError::KeyReused),
            };
        }
        match self.run(key, token, customer_id, fault).await {
            Ok(receipt) => {
                let done = Record::Done {
                    customer_id,
                    receipt: receipt.clone(),
                };
                if let Err(err) = self
                    .store
                    .finish(key, &done.to_json(), self.idempotency.ttl)
                    .await
                {
                    // The order is placed; a retry re-runs the journey, and
                    // sql-application replays the order for the key.
                    tracing::warn!(error = %err, "cannot store the checkout's answer");
                }
                Ok(Outcome::Placed(receipt))
            }
            Err(err) => {
                if let Err(forget) = self.store.forget(key).await {
                    tracing::warn!(error = %forget, "cannot free the idempotency key; it expires by itself");
                }
                Err(err)
            }
        }
    }

    /// The five hops.
    async fn run(
        &self,
        key: &str,
        token: &str,
        customer_id: i64,
        fault: &Forwarded,
    ) -> Result<Receipt, ApiError> {
        let cart = self.cart.get(token, fault).await.map_err(|err| match err {
            HopError::Refused {
                status: 401,
                detail,
                ..
            } => ApiError::Unauthorized(detail),
            error => ApiError::Dependency { error, released: 0 },
        })?;
        if cart.items.is_empty() {
            return Err(ApiError::EmptyCart);
        }
        let held = self.reserve(&cart.items).await?;
        match self
            .after_reservation(key, customer_id, &cart.items, &held, fault)
            .await
        {
            Ok(receipt) => Ok(receipt),
            Err(err) => {
                let released = self.release(&held).await;
                Err(match err {
                    HopError::Refused {
                        hop: Hop::Orders,
                        kind,
                        detail,
                        ..
                    } => ApiError::OrderRefused {
                        kind,
                        detail,
                        released,
                    },
                    error => ApiError::Dependency { error, released },
                })
            }
        }
    }

    /// Reserves every line, in cart order; on a failure gives back what it held.
    async fn reserve(&self, lines: &[CartLine]) -> Result<Vec<Held>, ApiError> {
        let mut held = Vec::with_capacity(lines.len());
        for line in lines {
            match self.inventory.reserve(&line.sku, line.quantity).await {
                Ok(reservation) => held.push(reservation),
                Err(err) => {
                    let released = self.release(&held).await;
                    return Err(match err {
                        HopError::Refused { status, detail, .. } => ApiError::OutOfStock {
                            slug: if status == 404 {
                                "unknown-sku"
                            } else {
                                "out-of-stock"
                            },
                            sku: line.sku.clone(),
                            detail,
                            released,
                        },
                        error @ HopError::Unavailable { .. } => {
                            ApiError::Dependency { error, released }
                        }
                    });
                }
            }
        }
        Ok(held)
    }

    /// Order, event and receipt.
    async fn after_reservation(
        &self,
        key: &str,
        customer_id: i64,
        lines: &[CartLine],
        held: &[Held],
        fault: &Forwarded,
    ) -> Result<Receipt, HopError> {
        let order = self.orders.place(key, customer_id, lines, fault).await?;
        let payload = json!({
            "order_id": order.id,
            "customer_id": order.customer_id,
            "total_cents": order.total_cents,
            "lines": lines.iter().map(|l| json!({"sku": l.sku, "quantity": l.quantity})).collect::<Vec<_>>(),
        });
        self.events.order_placed(order.id, payload, fault).await?;
        let skus: Vec<&str> = lines.iter().map(|line| line.sku.as_str()).collect();
        let catalog = self.catalog.products(&skus, fault).await?;
        let product_ids: Vec<i64> = lines.iter().map(|line| line.product_id).collect();
        Ok(Receipt::new(
            &order,
            &product_ids,
            held,
            &catalog,
            event_id(order.id),
        ))
    }

    /// Gives every reservation of `held` back (the compensation); how many were.
    /// A failed release is logged: the reservation then expires after its TTL.
    async fn release(&self, held: &[Held]) -> usize {
        let mut released = 0;
        for reservation in held {
            match self.inventory.release(reservation).await {
                Ok(()) => released += 1,
                Err(err) => tracing::warn!(
                    reservation = %reservation.id, error = %err,
                    "cannot release; the reservation expires by itself"
                ),
            }
        }
        if !held.is_empty() {
            tracing::info!(
                released,
                of = held.len(),
                "compensated: reservations released"
            );
        }
        released
    }
}
