//! Everything that talks to Kafka — the only module that uses rdkafka: the clients'
//! common settings and topic creation ([`client`]), the idempotent producer
//! ([`producer`]), the worker's consumer ([`consumer`]), and the readiness check and
//! lag per partition ([`inspector`]). Failures are [`StoreError`]s, never rdkafka's own.

pub mod client;
pub mod consumer;
pub mod inspector;
pub mod producer;

use rdkafka::error::KafkaError;

/// The broker could not do the work: unreachable, or no acknowledgement in time.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(String);

impl From<KafkaError> for StoreError {
    fn from(err: KafkaError) -> Self {
        // Every produce or metadata failure means "not written / not known": the
        // client may retry (event ids make retries safe).
        Self(format!("the Kafka broker did not answer in time: {err}"))
    }
}

impl StoreError {
    /// A failure that is not one of rdkafka's own errors.
    pub fn from_message(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

#[cfg(test)]
mod tests {
    use rdkafka::types::RDKafkaErrorCode;

    use super::*;

    #[test]
    fn a_produce_failure_says_the_broker_did_not_answer() {
        let err = StoreError::from(KafkaError::MessageProduction(
            RDKafkaErrorCode::MessageTimedOut,
        ));
        assert!(
            err.to_string()
                .starts_with("the Kafka broker did not answer in time")
        );
    }
}
