//! `/api/v1/consumer`: the consumer group's lag on the input topic, and what this
//! process's worker did.

use std::sync::atomic::Ordering;

use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use service_kit::problem::status::UNAVAILABLE;

use super::{AppState, Tag};
use crate::error::Errors;
use crate::store::inspector;

/// Lag of one partition of the group.
#[derive(Debug, Clone, Object)]
#[oai(rename = "PartitionLag")]
pub struct PartitionLagDoc {
    /// Partition number.
    pub partition: i32,
    /// Next offset the group will process (`null` before its first commit).
    #[oai(nullable)]
    pub committed: Option<i64>,
    /// Next offset the broker will write.
    pub high_watermark: i64,
    /// Messages written but not yet processed.
    pub lag: i64,
}

impl From<inspector::PartitionLag> for PartitionLagDoc {
    fn from(lag: inspector::PartitionLag) -> Self {
        Self {
            partition: lag.partition,
            committed: lag.committed,
            high_watermark: lag.high_watermark,
            lag: lag.lag,
        }
    }
}

/// The group's lag on the input topic.
#[derive(Debug, Clone, Object)]
pub struct Lag {
    /// Consumer group.
    pub group: String,
    /// Input topic.
    pub topic: String,
    /// Sum over partitions.
    pub total: i64,
    /// Per partition.
    pub partitions: Vec<PartitionLagDoc>,
}

/// The worker's counters since start.
#[derive(Debug, Clone, Object)]
pub struct WorkerStats {
    /// Whether this process runs the worker.
    pub running: bool,
    /// Events processed.
    pub processed: u64,
    /// Duplicates skipped.
    pub duplicates: u64,
    /// Attempts retried.
    pub retries: u64,
    /// Messages dead-lettered.
    pub dead_lettered: u64,
    /// Offset commits.
    pub commits: u64,
}

/// The worker's view.
#[derive(Debug)]
pub struct ConsumerApi {
    /// Shared state.
    pub state: AppState,
}

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Consumer")]
impl ConsumerApi {
    /// The consumer group's lag on the input topic, per partition.
    #[oai(path = "/consumer/lag", method = "get", operation_id = "consumerLag")]
    async fn lag(&self) -> Result<Json<Lag>, Errors<{ UNAVAILABLE }>> {
        let partitions: Vec<PartitionLagDoc> = self
            .state
            .inspector
            .lag()
            .await?
            .into_iter()
            .map(PartitionLagDoc::from)
            .collect();
        let kafka = &self.state.settings.kafka;
        Ok(Json(Lag {
            group: kafka.group_id.clone(),
            topic: kafka.input_topic.clone(),
            total: partitions.iter().map(|p| p.lag).sum(),
            partitions,
        }))
    }

    /// What this process's worker did since start.
    #[oai(
        path = "/consumer/stats",
        method = "get",
        operation_id = "consumerStats"
    )]
    async fn stats(&self) -> Json<WorkerStats> {
        let stats = &self.state.stats;
        Json(WorkerStats {
            running: self.state.settings.roles.worker,
            processed: stats.processed.load(Ordering::Relaxed),
            duplicates: stats.duplicates.load(Ordering::Relaxed),
            retries: stats.retries.load(Ordering::Relaxed),
            dead_lettered: stats.dead_lettered.load(Ordering::Relaxed),
            commits: stats.commits.load(Ordering::Relaxed),
        })
    }
}
