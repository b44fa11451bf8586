//! `/api/v1/reports/sales`: the best sellers of the last days. The `slow_query`
//! fault switches it to a plan no index serves, plus a sleep in PostgreSQL.

use poem::Request;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use service_kit::faults::middleware::is_active;

use super::{AppState, ListErrors, Tag};
use crate::model::SalesRow;
use crate::scenarios::SLOW_QUERY;
use crate::store::reports;

/// Report operations.
#[derive(Debug)]
pub struct ReportsApi {
    /// Shared state.
    pub state: AppState,
}

/// Sales per product over a window.
#[derive(Debug, Object)]
pub struct SalesReport {
    /// Window length in days.
    pub days: i32,
    /// `index` (orders_created_at_idx) or `full_scan` (the slow_query fault).
    pub plan: String,
    /// Products by revenue, highest first.
    pub rows: Vec<SalesRow>,
}

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Reports")]
impl ReportsApi {
    /// Best-selling products of the last `days` days.
    #[oai(path = "/reports/sales", method = "get", operation_id = "salesReport")]
    async fn sales(
        &self,
        req: &Request,
        /// Window in days (default 7).
        #[oai(validator(minimum(value = "1"), maximum(value = "366")))]
        days: Query<Option<i32>>,
        /// Rows (default 20; more than `orders.max_page_size` is that many).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
    ) -> Result<Json<SalesReport>, ListErrors> {
        let days = days.0.unwrap_or(7);
        let limit = self.state.limit(limit.0);
        self.state.prelude(req).await?;
        let slow =
            is_active(req, SLOW_QUERY).then_some(self.state.settings.scenarios.slow_query_sleep);
        let rows = reports::sales(&self.state.pool, days, limit, slow).await?;
        let plan = if slow.is_some() { "full_scan" } else { "index" };
        Ok(Json(SalesReport {
            days,
            plan: plan.to_owned(),
            rows,
        }))
    }
}
