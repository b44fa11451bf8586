//! The fault scenarios this app plays beyond the kit's `latency` and `errors`.

use service_kit::faults::{Catalog, ScenarioInfo};

/// `faults.slow_endpoint`: the inventory report takes `reports.slow_delay` longer.
pub const SLOW_ENDPOINT: &str = "slow_endpoint";

/// Every scenario of http-rest-api.
pub const CATALOG: Catalog = &[ScenarioInfo {
    name: SLOW_ENDPOINT,
    description: "GET /api/v1/reports/inventory takes reports.slow_delay longer: its p99 by http_route rises while other routes stay fast",
}];
