//! The app's fault scenarios beyond the kit's latency and errors: a slow and a broken
//! downstream. checkout does not fake them: on an affected checkout it asks the guilty
//! hop (`scenarios.hop`) to be slow or to fail through that app's own fault switch,
//! the kit's `x-fault-delay` / `x-fault-error` request headers with that app's admin
//! token, so the delay or the failure happens where it would in real life and OBI
//! sees it in that app's server span as well as in checkout's client span.

use service_kit::faults::{Catalog, ScenarioInfo};

/// The guilty hop answers `scenarios.slow_hop_delay` later.
pub const SLOW_HOP: &str = "slow_hop";
/// The guilty hop fails with `scenarios.broken_hop_status`.
pub const BROKEN_HOP: &str = "broken_hop";

/// What `/admin/faults` lists and `faults.*` accepts.
pub const CATALOG: Catalog = &[
    ScenarioInfo {
        name: SLOW_HOP,
        description: "affected checkouts ask the guilty hop (scenarios.hop, sql-application by default) for x-fault-delay: scenarios.slow_hop_delay: the journey's p99 rises, and only that hop's client span (and its server span) grows",
    },
    ScenarioInfo {
        name: BROKEN_HOP,
        description: "affected checkouts ask the guilty hop (scenarios.hop) for x-fault-error: scenarios.broken_hop_status: the checkout answers 503 naming it, and the reservations are given back (an inventory.v1.Inventory/Release span per line)",
    },
];
