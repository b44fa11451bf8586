//! `orders`, `order_items` and `idempotency_keys`: placing an order in one
//! transaction, reading it back, and listing with a JOIN (or N+1 on purpose).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{Connection, PgConnection, Postgres, Transaction};

use super::{Pool, StoreError};
use crate::domain::order::{OrderInput, Placement, StockLevel};
use crate::model::{Order, OrderItem};

/// What placing an order produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// A new order.
    Created(Order),
    /// The stored answer to an earlier request with the same `Idempotency-Key`.
    Replayed(Order),
}

/// An `Idempotency-Key` and the canonical request it came with.
#[derive(Debug, Clone)]
pub struct Idempotency<'a> {
    /// The client's key.
    pub key: &'a str,
    /// The request body, compared on replay.
    pub request: serde_json::Value,
}

#[derive(sqlx::FromRow)]
struct StockRow {
    id: i64,
    price_cents: i64,
    stock: i32,
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: i64,
    customer_id: i64,
    status: String,
    total_cents: i64,
    created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct JoinedRow {
    #[sqlx(flatten)]
    order: OrderRow,
    product_id: Option<i64>,
    quantity: Option<i32>,
    unit_price_cents: Option<i64>,
}

impl OrderRow {
    fn into_order(self, items: Vec<OrderItem>) -> Order {
        Order {
            id: self.id,
            customer_id: self.customer_id,
            status: self.status,
            total_cents: self.total_cents,
            created_at: self.created_at,
            items,
        }
    }
}

/// Places an order: all of it (stock taken, order and items written, idempotency
/// key stored) or nothing. The checks are the domain's ([`OrderInput::require_customer`],
/// [`OrderInput::place`]) on rows locked in this transaction: products in id order, so
/// concurrent orders for the same products queue instead of deadlocking.
pub async fn place(
    pool: &Pool,
    input: &OrderInput,
    idempotency: Option<Idempotency<'_>>,
) -> Result<Placed, StoreError> {
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    if let Some(idem) = &idempotency
        && !claim(&mut tx, idem).await?
    {
        return replay(tx, idem).await;
    }
    input.require_customer(customer_exists(&mut tx, input.customer_id).await?)?;
    let placement = input.place(&lock_stock(&mut tx, &input.product_ids()).await?)?;
    let order = write(&mut tx, input.customer_id, &placement).await?;
    if let Some(idem) = &idempotency {
        sqlx::query("UPDATE idempotency_keys SET response = $2, order_id = $3 WHERE key = $1")
            .bind(idem.key)
            .bind(Json(&order))
            .bind(order.id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(Placed::Created(order))
}

/// Stores the key with its request; false when it exists (after waiting for a
/// concurrent transaction holding it, whose row it then sees).
async fn claim(tx: &mut PgConnection, idem: &Idempotency<'_>) -> Result<bool, StoreError> {
    let claimed = sqlx::query(
        "INSERT INTO idempotency_keys (key, request) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
    )
    .bind(idem.key)
    .bind(Json(&idem.request))
    .execute(tx)
    .await?
    .rows_affected();
    Ok(claimed > 0)
}

/// Whether the customer exists, locked against deletion until the order is written.
async fn customer_exists(tx: &mut PgConnection, id: i64) -> Result<bool, StoreError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM customers WHERE id = $1 FOR KEY SHARE")
            .bind(id)
            .fetch_optional(tx)
            .await?;
    Ok(found.is_some())
}

/// Price and stock of the ordered products, locked in id order.
async fn lock_stock(
    tx: &mut PgConnection,
    ids: &[i64],
) -> Result<BTreeMap<i64, StockLevel>, StoreError> {
    let rows: Vec<StockRow> = sqlx::query_as(
        "SELECT id, price_cents, stock FROM products WHERE id = ANY($1) ORDER BY id FOR UPDATE",
    )
    .bind(ids)
    .fetch_all(tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let level = StockLevel {
                price_cents: row.price_cents,
                stock: row.stock,
            };
            (row.id, level)
        })
        .collect())
}

/// Takes the stock and writes the order and its items.
async fn write(
    tx: &mut PgConnection,
    customer_id: i64,
    placement: &Placement,
) -> Result<Order, StoreError> {
    let ids: Vec<i64> = placement.lines.iter().map(|l| l.product_id).collect();
    let quantities: Vec<i32> = placement.lines.iter().map(|l| l.quantity).collect();
    let prices: Vec<i64> = placement.lines.iter().map(|l| l.unit_price_cents).collect();
    sqlx::query(
        "UPDATE products AS p SET stock = p.stock - x.quantity, updated_at = now() \
         FROM unnest($1::bigint[], $2::int[]) AS x(id, quantity) WHERE p.id = x.id",
    )
    .bind(&ids)
    .bind(&quantities)
    .execute(&mut *tx)
    .await?;
    let row: OrderRow = sqlx::query_as(
        "INSERT INTO orders (customer_id, total_cents) VALUES ($1, $2) \
         RETURNING id, customer_id, status, total_cents, created_at",
    )
    .bind(customer_id)
    .bind(placement.total_cents)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) \
         SELECT $1, x.product_id, x.quantity, x.price FROM unnest($2::bigint[], $3::int[], $4::bigint[]) AS x(product_id, quantity, price)",
    )
    .bind(row.id)
    .bind(&ids)
    .bind(&quantities)
    .bind(&prices)
    .execute(&mut *tx)
    .await?;
    let mut items: Vec<OrderItem> = placement
        .lines
        .iter()
        .map(|line| OrderItem {
            product_id: line.product_id,
            quantity: line.quantity,
            unit_price_cents: line.unit_price_cents,
        })
        .collect();
    items.sort_by_key(|item| item.product_id);
    Ok(row.into_order(items))
}

async fn replay(
    mut tx: Transaction<'_, Postgres>,
    idem: &Idempotency<'_>,
) -> Result<Placed, StoreError> {
    let (request, response): (Json<serde_json::Value>, Option<Json<Order>>) =
        sqlx::query_as("SELECT request, response FROM idempotency_keys WHERE key = $1")
            .bind(idem.key)
            .fetch_one(&mut *tx)
            .await?;
    tx.rollback().await?;
    if request.0 != idem.request {
        return Err(StoreError::KeyReused(format!(
            "Idempotency-Key `{}` was used with a different request",
            idem.key
        )));
    }
    match response {
        Some(Json(order)) => Ok(Placed::Replayed(order)),
        // Written in the same transaction as the key: only a bug leaves it empty.
        None => Err(StoreError::Unexpected(anyhow::anyhow!(
            "idempotency key without a response"
        ))),
    }
}

/// One order with its items, in one statement.
pub async fn get(pool: &Pool, id: i64) -> Result<Order, StoreError> {
    let rows: Vec<JoinedRow> = sqlx::query_as(
        "SELECT o.id, o.customer_id, o.status, o.total_cents, o.created_at, \
                i.product_id, i.quantity, i.unit_price_cents \
         FROM orders o LEFT JOIN order_items i ON i.order_id = o.id \
         WHERE o.id = $1 ORDER BY i.product_id",
    )
    .bind(id)
    .fetch_all(&mut *pool.acquire().await?)
    .await?;
    group(rows)
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::NotFound(format!("no order with id {id}")))
}

/// Which orders a listing shows.
#[derive(Debug, Clone, Copy)]
pub struct Filter {
    /// Only ids below this (the cursor), newest first.
    pub before: Option<i64>,
    /// Only this customer's.
    pub customer_id: Option<i64>,
    /// At most this many.
    pub limit: i64,
}

/// A page of orders with their items in one statement (a JOIN over the page).
pub async fn list(pool: &Pool, filter: Filter) -> Result<Vec<Order>, StoreError> {
    let rows: Vec<JoinedRow> = sqlx::query_as(
        "WITH page AS ( \
             SELECT id, customer_id, status, total_cents, created_at FROM orders \
             WHERE ($1::bigint IS NULL OR id < $1) AND ($2::bigint IS NULL OR customer_id = $2) \
             ORDER BY id DESC LIMIT $3) \
         SELECT page.id, page.customer_id, page.status, page.total_cents, page.created_at, \
                i.product_id, i.quantity, i.unit_price_cents \
         FROM page LEFT JOIN order_items i ON i.order_id = page.id \
         ORDER BY page.id DESC, i.product_id",
    )
    .bind(filter.before)
    .bind(filter.customer_id)
    .bind(filter.limit)
    .fetch_all(&mut *pool.acquire().await?)
    .await?;
    Ok(group(rows))
}

/// The same page the N+1 way: the orders, then one SELECT per order for its items.
pub async fn list_n_plus_one(pool: &Pool, filter: Filter) -> Result<Vec<Order>, StoreError> {
    let mut conn = pool.acquire().await?;
    let rows: Vec<OrderRow> = sqlx::query_as(
        "SELECT id, customer_id, status, total_cents, created_at FROM orders \
         WHERE ($1::bigint IS NULL OR id < $1) AND ($2::bigint IS NULL OR customer_id = $2) \
         ORDER BY id DESC LIMIT $3",
    )
    .bind(filter.before)
    .bind(filter.customer_id)
    .bind(filter.limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut orders = Vec::with_capacity(rows.len());
    for row in rows {
        let items: Vec<OrderItem> = sqlx::query_as(
            "SELECT product_id, quantity, unit_price_cents FROM order_items WHERE order_id = $1 ORDER BY product_id",
        )
        .bind(row.id)
        .fetch_all(&mut *conn)
        .await?;
        orders.push(row.into_order(items));
    }
    Ok(orders)
}

/// Folds JOIN rows (ordered by order) into orders with their items.
fn group(rows: Vec<JoinedRow>) -> Vec<Order> {
    let mut orders: Vec<Order> = Vec::new();
    for row in rows {
        let item = match (row.product_id, row.quantity, row.unit_price_cents) {
            (Some(product_id), Some(quantity), Some(unit_price_cents)) => Some(OrderItem {
                product_id,
                quantity,
                unit_price_cents,
            }),
            _ => None,
        };
        match orders.last_mut() {
            Some(last) if last.id == row.order.id => last.items.extend(item),
            _ => orders.push(row.order.into_order(item.into_iter().collect())),
        }
    }
    orders
}
