//! Price changes: published to a Redis channel, received by one subscriber per app
//! instance (which reconnects and resubscribes by itself) and fanned out to every
//! Server-Sent-Events client through a broadcast channel.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use futures_util::StreamExt;
use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use service_kit::shutdown::Shutdown;
use tokio::sync::broadcast;

use crate::store::{Store, StoreError};

/// One price change, as published and as streamed.
#[derive(Debug, Clone, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct PriceChange {
    /// The product.
    pub product_id: i64,
    /// Its new price in cents.
    pub price_cents: i64,
    /// Milliseconds since the epoch when it changed.
    pub changed_at_ms: u64,
}

/// The price bus of one instance, cheap to clone.
#[derive(Debug, Clone)]
pub struct Prices {
    sender: broadcast::Sender<PriceChange>,
    subscribed: Arc<AtomicBool>,
    received: Arc<AtomicU64>,
}

impl Default for Prices {
    fn default() -> Self {
        Self::new()
    }
}

impl Prices {
    /// A bus (nothing runs until [`Prices::run`]).
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(1024);
        Self {
            sender,
            subscribed: Arc::default(),
            received: Arc::default(),
        }
    }

    /// Whether the subscriber is connected and subscribed now.
    pub fn is_subscribed(&self) -> bool {
        self.subscribed.load(Ordering::SeqCst)
    }

    /// Messages received from Redis so far.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// SSE clients connected now.
    pub fn listeners(&self) -> usize {
        self.sender.receiver_count()
    }

    /// A new listener's stream of changes.
    pub fn listen(&self) -> broadcast::Receiver<PriceChange> {
        self.sender.subscribe()
    }

    /// Publishes a change; returns how many instances' subscribers got it.
    pub async fn publish(&self, store: &Store, change: &PriceChange) -> Result<u64, StoreError> {
        let text = serde_json::to_string(change).unwrap_or_default();
        store.publish_price(&text).await
    }

    /// The subscriber loop: connect, subscribe, forward; after any loss wait
    /// `redis.resubscribe_delay` and start over, until shutdown.
    pub async fn run(self, store: Store, shutdown: Shutdown) {
        loop {
            let session = async {
                let mut messages = store.subscribe_prices().await?;
                self.subscribed.store(true, Ordering::SeqCst);
                tracing::info!(channel = %store.price_channel(), "subscribed to price changes");
                while let Some(payload) = messages.next().await {
                    match serde_json::from_str::<PriceChange>(&payload) {
                        Ok(change) => {
                            self.received.fetch_add(1, Ordering::Relaxed);
                            let _ = self.sender.send(change);
                        }
                        Err(err) => {
                            tracing::warn!(error = %err, "ignoring a malformed price message")
                        }
                    }
                }
                Err(StoreError::from_message("subscription connection closed"))
            };
            let outcome: Result<(), StoreError> = tokio::select! {
                outcome = session => outcome,
                () = shutdown.wait() => return,
            };
            self.subscribed.store(false, Ordering::SeqCst);
            if let Err(reason) = outcome {
                tracing::warn!(%reason, "price subscriber lost Redis; resubscribing");
            }
            tokio::select! {
                () = tokio::time::sleep(store.resubscribe_delay()) => {}
                () = shutdown.wait() => return,
            }
        }
    }
}
