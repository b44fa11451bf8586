//! Topics and a consumer group of its own per test on the shared Kafka broker of
//! `cargo xtask services up` (deleted when the test ends), and a reader of whole topics.

use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::OwnedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::http::block_on_own_thread;

/// The shared broker (override with `TEST_KAFKA`).
pub fn broker() -> String {
    std::env::var("TEST_KAFKA").unwrap_or_else(|_| "127.0.0.1:9092".into())
}

/// Names unique to one test, on one broker: `<prefix>-<what>` topics and a group.
#[derive(Debug, Clone)]
pub struct FreshNames {
    /// `ks-test-<random>`.
    pub prefix: String,
    /// Where the broker is.
    pub bootstrap: String,
}

impl FreshNames {
    /// Fresh names on the shared broker.
    pub fn fresh() -> Self {
        Self::on(&broker())
    }

    /// Fresh names on `bootstrap`.
    pub fn on(bootstrap: &str) -> Self {
        Self {
            prefix: format!("ks-test-{:012x}", fastrand::u64(..) >> 16),
            bootstrap: bootstrap.to_owned(),
        }
    }

    /// `<prefix>-<what>`: a topic's (or the group's) name.
    pub fn name(&self, what: &str) -> String {
        format!("{}-{what}", self.prefix)
    }

    /// Deletes the topics `<prefix>-<what>` and the group `<prefix>-<group>` (best
    /// effort, off the test's runtime).
    pub fn cleanup(&self, topics: &[&str], group: &str) {
        let topics: Vec<String> = topics.iter().map(|what| self.name(what)).collect();
        let group = self.name(group);
        let bootstrap = self.bootstrap.clone();
        block_on_own_thread(async move {
            let Ok(admin) = ClientConfig::new()
                .set("bootstrap.servers", &bootstrap)
                .create::<AdminClient<DefaultClientContext>>()
            else {
                return;
            };
            let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(5)));
            let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
            let _ = admin.delete_topics(&topics, &options).await;
            let _ = admin.delete_groups(&[&group], &options).await;
        });
    }
}

/// Reads `topic` from the beginning until `n` records arrived or `limit` passed,
/// then a little longer to see any extra ones. Blocking.
pub fn read_topic(bootstrap: &str, topic: &str, n: usize, limit: Duration) -> Vec<OwnedMessage> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("reader-{:x}", fastrand::u64(..)))
        .set("enable.auto.commit", "false")
        .create()
        .expect("a Kafka consumer");
    let started = Instant::now();
    let partitions = loop {
        let metadata = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(5))
            .expect("topic metadata");
        let partitions: Vec<i32> = metadata
            .topics()
            .iter()
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        if !partitions.is_empty() || started.elapsed() > limit {
            break partitions;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut list = TopicPartitionList::new();
    for partition in partitions {
        list.add_partition_offset(topic, partition, Offset::Beginning)
            .expect("a partition offset");
    }
    consumer.assign(&list).expect("assign partitions");
    let mut records = Vec::new();
    let mut quiet_since = Instant::now();
    loop {
        if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) {
            records.push(message.detach());
            quiet_since = Instant::now();
        }
        let enough = records.len() >= n;
        if (enough && quiet_since.elapsed() > Duration::from_millis(500))
            || started.elapsed() > limit
        {
            return records;
        }
    }
}

/// The value of header `name` of a record, as text.
pub fn header(record: &OwnedMessage, name: &str) -> Option<String> {
    use rdkafka::message::Headers;
    record.headers().and_then(|headers| {
        headers
            .iter()
            .find(|h| h.key == name)
            .and_then(|h| h.value)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    })
}

/// The value of a record, as JSON (`None` when it has none or it is not JSON).
pub fn json_value(record: &OwnedMessage) -> Option<serde_json::Value> {
    record
        .payload()
        .and_then(|payload| serde_json::from_slice(payload).ok())
}
