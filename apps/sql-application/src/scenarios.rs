//! The app's fault scenarios beyond the kit's latency and errors.

use service_kit::faults::{Catalog, ScenarioInfo};

/// List orders with one query per order for their items instead of one JOIN.
pub const N_PLUS_ONE: &str = "n_plus_one";
/// The sales report defeats its index and sleeps inside PostgreSQL.
pub const SLOW_QUERY: &str = "slow_query";
/// Each affected request holds a pooled connection in `pg_sleep` first.
pub const POOL_EXHAUSTION: &str = "pool_exhaustion";

/// What `/admin/faults` lists and `faults.*` accepts.
pub const CATALOG: Catalog = &[
    ScenarioInfo {
        name: N_PLUS_ONE,
        description: "GET /api/v1/orders loads each order's items with its own SELECT (1 + N queries per request instead of 1): OBI shows more than 10 SQL client spans per listing",
    },
    ScenarioInfo {
        name: SLOW_QUERY,
        description: "GET /api/v1/reports/sales filters on an expression the index cannot serve and sleeps in PostgreSQL: its SELECT spans and db_client_operation_duration_seconds p99 rise to seconds",
    },
    ScenarioInfo {
        name: POOL_EXHAUSTION,
        description: "every affected request first holds a pooled connection in pg_sleep: the pool runs dry, other requests wait acquire_timeout and get 503 (database-unavailable)",
    },
];
