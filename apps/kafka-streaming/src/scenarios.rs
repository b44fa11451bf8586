//! The app's fault scenarios beyond the kit's latency and errors.

use service_kit::faults::{Catalog, ScenarioInfo};

/// The worker pauses before each affected message: consumer lag builds.
pub const SLOW_CONSUMER: &str = "slow_consumer";
/// An affected request publishes an undecodable record: it ends in the dead-letter topic.
pub const POISON_RATE: &str = "poison_rate";
/// An affected request publishes its event many times (same id; the worker dedupes).
pub const PRODUCER_BURST: &str = "producer_burst";

/// What `/admin/faults` lists and `faults.*` accepts.
pub const CATALOG: Catalog = &[
    ScenarioInfo {
        name: SLOW_CONSUMER,
        description: "the worker sleeps scenarios.slow_consumer_delay before processing each affected message: lag per partition grows, messaging_process_duration_seconds rises, publish outpaces process on the input topic",
    },
    ScenarioInfo {
        name: POISON_RATE,
        description: "an affected POST writes an undecodable record (still 202): the worker retries it worker.max_attempts times, then publishes it to the dead-letter topic with x-error and origin headers",
    },
    ScenarioInfo {
        name: PRODUCER_BURST,
        description: "an affected POST publishes its event scenarios.burst_copies times with the same id: publish rate on the input topic spikes, the worker processes one copy and skips the duplicates",
    },
];
