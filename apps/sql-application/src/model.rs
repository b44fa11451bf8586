//! The records the API returns, as the store reads them: one definition serves the
//! JSON document (`Object`), the idempotency store (`serde`) and the row mapping
//! (`store::rows`, next to the queries), so they cannot drift apart.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use serde::{Deserialize, Serialize};

/// A product in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct Product {
    /// Server-assigned id.
    pub id: i64,
    /// Stock-keeping unit, unique, upper-case.
    pub sku: String,
    /// Display name.
    pub name: String,
    /// Unit price in cents.
    pub price_cents: i64,
    /// Units in stock.
    pub stock: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed (including stock taken by orders).
    pub updated_at: DateTime<Utc>,
}

/// A customer.
#[derive(Debug, Clone, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct Customer {
    /// Server-assigned id.
    pub id: i64,
    /// E-mail address, unique, lower-case.
    pub email: String,
    /// Display name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// One line of an order, with the price paid.
#[derive(Debug, Clone, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct OrderItem {
    /// The product.
    pub product_id: i64,
    /// Units ordered.
    pub quantity: i32,
    /// Unit price when the order was placed, in cents.
    pub unit_price_cents: i64,
}

/// An order with its items.
#[derive(Debug, Clone, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct Order {
    /// Server-assigned id.
    pub id: i64,
    /// Who ordered.
    pub customer_id: i64,
    /// `placed` (the only status this service sets).
    pub status: String,
    /// Sum of quantity × unit price, in cents.
    pub total_cents: i64,
    /// When it was placed.
    pub created_at: DateTime<Utc>,
    /// Its lines, by product id.
    pub items: Vec<OrderItem>,
}

/// One product's sales in the report window.
#[derive(Debug, Clone, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct SalesRow {
    /// The product.
    pub product_id: i64,
    /// Its sku.
    pub sku: String,
    /// Its name.
    pub name: String,
    /// Units sold.
    pub units: i64,
    /// Revenue in cents.
    pub revenue_cents: i64,
}
