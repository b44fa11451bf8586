//! The app's fault scenarios beyond the kit's latency and errors, and the one that
//! acts before a handler's own work (`pool_exhaustion`).

use crate::db::Pool;
use poem::Request;
use service_kit::faults::middleware::decision;
use service_kit::faults::{Catalog, ScenarioInfo};

use crate::error::ApiError;

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

/// Whether `name` is active for this request.
pub fn active(req: &Request, name: &str) -> bool {
    decision(req).is_some_and(|d| d.is_active(name))
}

/// Plays `pool_exhaustion` when it is active for this request: holds one pooled
/// connection for `hold` before the handler does its own work.
pub async fn hold_connection(
    req: &Request,
    pool: &Pool,
    hold: std::time::Duration,
) -> Result<(), ApiError> {
    if active(req, POOL_EXHAUSTION) {
        sqlx::query("SELECT pg_sleep($1)")
            .bind(hold.as_secs_f64())
            .execute(&mut *pool.acquire().await?)
            .await?;
    }
    Ok(())
}
