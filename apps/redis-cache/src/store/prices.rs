//! The price channel `<prefix>prices`: `PUBLISH` on the command connection, and the
//! subscriber's own connection (a pub/sub connection carries no commands after
//! `SUBSCRIBE`, so it is not recycled: replacing it would only risk losing messages).

use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use super::{Store, StoreError};

impl Store {
    /// The channel's name.
    pub fn price_channel(&self) -> String {
        self.key("prices")
    }

    /// `PUBLISH`es `message`; how many subscribers (app instances) got it.
    pub async fn publish_price(&self, message: &str) -> Result<u64, StoreError> {
        Ok(redis::cmd("PUBLISH")
            .arg(self.price_channel())
            .arg(message)
            .query_async(&mut self.connections.get())
            .await?)
    }

    /// Connects and subscribes to the channel, each step bounded by
    /// `redis.connect_timeout`; the stream yields each message's payload and ends when
    /// the connection is lost.
    pub async fn subscribe_prices(&self) -> Result<BoxStream<'static, String>, StoreError> {
        let timeout = self.settings.connect_timeout;
        let mut pubsub = bounded(timeout, "connect", self.client.get_async_pubsub()).await??;
        bounded(timeout, "subscribe", pubsub.subscribe(self.price_channel())).await??;
        Ok(pubsub
            .into_on_message()
            .filter_map(|message| async move { message.get_payload::<String>().ok() })
            .boxed())
    }

    /// Pause before the subscriber reconnects (`redis.resubscribe_delay`).
    pub fn resubscribe_delay(&self) -> Duration {
        self.settings.resubscribe_delay
    }
}

async fn bounded<F: Future>(
    timeout: Duration,
    what: &str,
    future: F,
) -> Result<F::Output, StoreError> {
    tokio::time::timeout(timeout, future)
        .await
        .map_err(|_| StoreError(format!("{what} timed out")))
}
