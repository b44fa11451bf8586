//! The idempotent producer (`acks=all`, a bounded wait for each acknowledgement,
//! `kafka.linger`): the events the API accepts, and the worker's results and dead
//! letters.

use std::time::Duration;

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _};
use rdkafka::util::Timeout;

use super::StoreError;
use super::client::{base_config, millis};
use crate::event::Event;
use crate::record;
use crate::settings::KafkaSettings;

/// Where the broker wrote a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// The partition.
    pub partition: i32,
    /// The offset there.
    pub offset: i64,
}

/// The producer. Cheap to clone.
#[derive(Clone)]
pub struct Producer {
    inner: FutureProducer,
    queue_timeout: Duration,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer").finish_non_exhaustive()
    }
}

impl Producer {
    /// A producer with client id `<kafka.client_id>-<role>` (the broker need not be up).
    pub fn new(settings: &KafkaSettings, role: &str) -> Result<Self, StoreError> {
        let inner = base_config(settings, role)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("message.timeout.ms", millis(settings.message_timeout))
            .set("linger.ms", settings.linger.as_millis().to_string())
            .create()?;
        Ok(Self {
            inner,
            queue_timeout: settings.message_timeout,
        })
    }

    /// Writes one record and waits for the broker's acknowledgement.
    pub async fn send<V: AsRef<str>>(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        payload: Option<&[u8]>,
        headers: &[(&str, V)],
    ) -> Result<Delivery, StoreError> {
        let headers = headers
            .iter()
            .fold(OwnedHeaders::new(), |all, (key, value)| {
                all.insert(Header {
                    key,
                    value: Some(value.as_ref()),
                })
            });
        let mut record = FutureRecord::<[u8], [u8]>::to(topic).headers(headers);
        if let Some(key) = key {
            record = record.key(key);
        }
        if let Some(payload) = payload {
            record = record.payload(payload);
        }
        let delivery = self
            .inner
            .send(record, Timeout::After(self.queue_timeout))
            .await
            .map_err(|(err, _)| StoreError::from(err))?;
        Ok(Delivery {
            partition: delivery.partition,
            offset: delivery.offset,
        })
    }

    /// Writes `event` to `topic` (`poison`: an undecodable value instead) `copies`
    /// times, one acknowledged write after another; where the first copy went.
    ///
    /// The copies (`producer_burst`) are not sent at once: librdkafka would pack them
    /// into one produce request, and the burst would show in the topic but not in the
    /// requests OBI counts.
    pub async fn publish_event(
        &self,
        topic: &str,
        event: &Event,
        poison: bool,
        copies: u32,
    ) -> Result<Delivery, StoreError> {
        let value = record::event_value(event, poison);
        let headers = record::event_headers(event);
        let mut first = None;
        for _ in 0..copies.max(1) {
            let delivery = self
                .send(topic, Some(event.id.as_bytes()), Some(&value), &headers)
                .await?;
            first.get_or_insert(delivery);
        }
        first.ok_or_else(|| StoreError::from_message("nothing was sent"))
    }

    /// Waits up to `limit` for what is still queued to be acknowledged (at shutdown).
    pub async fn flush(self, limit: Duration) {
        let flushed = tokio::task::spawn_blocking(move || self.inner.flush(limit)).await;
        if let Ok(Err(err)) = flushed {
            tracing::warn!(error = %err, "producer flush incomplete");
        }
    }
}
