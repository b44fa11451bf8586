//! Price changes: published to a Redis channel, received by one subscriber per app
//! instance (which reconnects and resubscribes by itself) and fanned out to every
//! Server-Sent-Events client through a broadcast channel.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use poem_openapi::Object;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use service_kit::shutdown::Shutdown;
use tokio::sync::broadcast;

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
    channel: Arc<str>,
    sender: broadcast::Sender<PriceChange>,
    subscribed: Arc<AtomicBool>,
    received: Arc<AtomicU64>,
}

impl Prices {
    /// A bus on `channel` (nothing runs until [`Prices::run`]).
    pub fn new(channel: String) -> Self {
        let (sender, _) = broadcast::channel(1024);
        Self {
            channel: channel.into(),
            sender,
            subscribed: Arc::default(),
            received: Arc::default(),
        }
    }

    /// The channel name.
    pub fn channel(&self) -> &str {
        &self.channel
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
    pub async fn publish(
        &self,
        redis: &mut ConnectionManager,
        change: &PriceChange,
    ) -> redis::RedisResult<u64> {
        let text = serde_json::to_string(change).unwrap_or_default();
        redis::cmd("PUBLISH")
            .arg(&*self.channel)
            .arg(text)
            .query_async(redis)
            .await
    }

    /// The subscriber loop: connect, subscribe, forward; after any loss wait
    /// `delay` and start over, until shutdown.
    pub async fn run(
        self,
        client: redis::Client,
        timeout: Duration,
        delay: Duration,
        shutdown: Shutdown,
    ) {
        loop {
            let session = async {
                let mut pubsub = tokio::time::timeout(timeout, client.get_async_pubsub())
                    .await
                    .map_err(|_| "connect timed out".to_owned())?
                    .map_err(|err| err.to_string())?;
                tokio::time::timeout(timeout, pubsub.subscribe(&*self.channel))
                    .await
                    .map_err(|_| "subscribe timed out".to_owned())?
                    .map_err(|err| err.to_string())?;
                self.subscribed.store(true, Ordering::SeqCst);
                tracing::info!(channel = %self.channel, "subscribed to price changes");
                let mut messages = pubsub.into_on_message();
                while let Some(message) = messages.next().await {
                    let Ok(payload) = message.get_payload::<String>() else {
                        continue;
                    };
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
                Err::<(), String>("subscription connection closed".to_owned())
            };
            let outcome = tokio::select! {
                outcome = session => outcome,
                () = shutdown.wait() => return,
            };
            self.subscribed.store(false, Ordering::SeqCst);
            if let Err(reason) = outcome {
                tracing::warn!(%reason, "price subscriber lost Redis; resubscribing");
            }
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = shutdown.wait() => return,
            }
        }
    }
}
