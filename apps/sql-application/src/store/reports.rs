//! The sales report: best-selling products of the last N days. Its fast path filters
//! `orders.created_at` through `orders_created_at_idx`; the `slow_query` path wraps the
//! column in an expression no index serves and sleeps inside PostgreSQL.
//!
//! The sums are taken in `numeric` and capped at `bigint`'s maximum, so that no row the
//! database holds (a price stored before prices were bounded, a sum of many large
//! orders) can make the report fail for everyone: a capped figure reads
//! 9223372036854775807.

use std::time::Duration;

use super::{Pool, StoreError};
use crate::model::SalesRow;

const FAST: &str = "SELECT p.id AS product_id, p.sku, p.name, \
        LEAST(SUM(i.quantity::numeric), 9223372036854775807)::bigint AS units, \
        LEAST(SUM(i.quantity::numeric * i.unit_price_cents), 9223372036854775807)::bigint AS revenue_cents \
    FROM orders o \
    JOIN order_items i ON i.order_id = o.id \
    JOIN products p ON p.id = i.product_id \
    WHERE o.created_at >= now() - make_interval(days => $1) \
    GROUP BY p.id ORDER BY revenue_cents DESC, p.id LIMIT $2";

const SLOW: &str = "WITH pause AS MATERIALIZED (SELECT pg_sleep($3)) \
    SELECT p.id AS product_id, p.sku, p.name, \
        LEAST(SUM(i.quantity::numeric), 9223372036854775807)::bigint AS units, \
        LEAST(SUM(i.quantity::numeric * i.unit_price_cents), 9223372036854775807)::bigint AS revenue_cents \
    FROM pause, orders o \
    JOIN order_items i ON i.order_id = o.id \
    JOIN products p ON p.id = i.product_id \
    WHERE date_trunc('second', o.created_at) >= now() - make_interval(days => $1) \
    GROUP BY p.id ORDER BY revenue_cents DESC, p.id LIMIT $2";

/// Top `limit` products by revenue over the last `days`; `slow` plays `slow_query`.
pub async fn sales(
    pool: &Pool,
    days: i32,
    limit: i64,
    slow: Option<Duration>,
) -> Result<Vec<SalesRow>, StoreError> {
    let query = match slow {
        None => sqlx::query_as(FAST).bind(days).bind(limit),
        Some(sleep) => sqlx::query_as(SLOW)
            .bind(days)
            .bind(limit)
            .bind(sleep.as_secs_f64()),
    };
    Ok(query.fetch_all(&mut *pool.acquire().await?).await?)
}
