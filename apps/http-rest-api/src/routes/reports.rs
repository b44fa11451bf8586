//! `GET /api/v1/reports/inventory`: stock and value per category over the whole
//! catalog. The `slow_endpoint` fault scenario makes it take `reports.slow_delay`
//! longer, so one route stands out in OBI's latency by route.

use std::collections::BTreeMap;

use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use service_kit::faults::middleware::is_active;
use service_kit::problem::status;

use super::{AppState, Tag};
use crate::error::Errors;
use crate::scenarios::SLOW_ENDPOINT;

/// Totals of one category.
#[derive(Debug, Object)]
pub struct CategoryTotals {
    /// The category.
    pub category: String,
    /// Number of products.
    pub products: u64,
    /// Units in stock.
    pub stock: i64,
    /// Stock value in cents.
    pub value_cents: i64,
}

/// The inventory report.
#[derive(Debug, Object)]
pub struct InventoryReport {
    /// Number of products.
    pub products: u64,
    /// Units in stock.
    pub stock: i64,
    /// Stock value in cents.
    pub value_cents: i64,
    /// Per category, by name.
    pub categories: Vec<CategoryTotals>,
}

/// The reports resource.
#[derive(Debug, Clone)]
pub struct ReportsApi {
    /// Shared state.
    pub state: AppState,
}

/// What the report can answer besides 200.
type ReportErrors = Errors<{ status::TOO_MANY_REQUESTS }>;

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Reports")]
impl ReportsApi {
    /// Stock and value per category (the `slow_endpoint` fault slows it down).
    #[oai(
        path = "/reports/inventory",
        method = "get",
        operation_id = "inventoryReport"
    )]
    async fn inventory(&self, req: &Request) -> Result<Json<InventoryReport>, ReportErrors> {
        if is_active(req, SLOW_ENDPOINT) {
            tokio::time::sleep(self.state.settings.reports.slow_delay).await;
        }
        let mut categories: BTreeMap<String, CategoryTotals> = BTreeMap::new();
        for product in self.state.store.snapshot() {
            let fields = &product.fields;
            let entry = categories
                .entry(fields.category.as_str().to_owned())
                .or_insert_with(|| CategoryTotals {
                    category: fields.category.as_str().to_owned(),
                    products: 0,
                    stock: 0,
                    value_cents: 0,
                });
            entry.products += 1;
            entry.stock += fields.stock.get();
            entry.value_cents += fields.stock.get() * fields.price_cents.get();
        }
        let categories: Vec<CategoryTotals> = categories.into_values().collect();
        Ok(Json(InventoryReport {
            products: categories.iter().map(|c| c.products).sum(),
            stock: categories.iter().map(|c| c.stock).sum(),
            value_cents: categories.iter().map(|c| c.value_cents).sum(),
            categories,
        }))
    }
}
