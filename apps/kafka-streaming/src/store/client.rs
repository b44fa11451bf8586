//! What every Kafka client shares: its settings (plaintext, a client id, metadata
//! refreshed often so OBI resolves topic ids to names), and the creation of the app's
//! topics at start-up.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;
use tokio_util::sync::CancellationToken;

use crate::settings::KafkaSettings;

/// Settings every client shares (obi-telemetry.md: plaintext, a client id, metadata
/// refreshed about every 30 s so OBI can resolve topic ids to names).
pub fn base_config(settings: &KafkaSettings, role: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &settings.bootstrap_servers)
        .set("security.protocol", "plaintext")
        .set("client.id", format!("{}-{role}", settings.client_id))
        .set(
            "topic.metadata.refresh.interval.ms",
            millis(settings.metadata_refresh_interval),
        )
        .set("socket.keepalive.enable", "true")
        .set("reconnect.backoff.max.ms", "1000");
    config
}

/// Milliseconds as librdkafka wants them.
pub fn millis(duration: Duration) -> String {
    duration.as_millis().max(1).to_string()
}

/// Creates the app's missing topics, retrying while the broker is away, until done
/// or `stop` fires. An existing topic is fine.
pub async fn create_topics(settings: KafkaSettings, stop: CancellationToken) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = base_config(&settings, "admin")
        .create()
        .map_err(|err| anyhow::anyhow!("cannot create the admin client: {err}"))?;
    let options = AdminOptions::new().operation_timeout(Some(settings.request_timeout));
    loop {
        let topics: Vec<NewTopic<'_>> = settings
            .topics()
            .iter()
            .map(|name| {
                NewTopic::new(
                    name,
                    settings.partitions,
                    TopicReplication::Fixed(settings.replication_factor),
                )
            })
            .collect();
        let outcome = tokio::select! {
            () = stop.cancelled() => return Ok(()),
            outcome = admin.create_topics(&topics, &options) => outcome,
        };
        let failed: Vec<String> = match outcome {
            Ok(results) => results
                .into_iter()
                .filter_map(|result| match result {
                    Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => None,
                    Err((topic, code)) => Some(format!("{topic}: {code}")),
                })
                .collect(),
            Err(err) => vec![err.to_string()],
        };
        if failed.is_empty() {
            tracing::info!(topics = ?settings.topics(), "topics ready");
            return Ok(());
        }
        tracing::warn!(errors = ?failed, "cannot create topics yet; retrying");
        tokio::select! {
            () = stop.cancelled() => return Ok(()),
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}
