//! How the records the API returns are read from rows: the mapping lives here, with
//! the queries, so the model stays free of the database crate. Each column is read by
//! the name the store's queries give it; every query runs in the API tests.

use sqlx::postgres::PgRow;
use sqlx::{FromRow, Row};

use crate::model::{Customer, OrderItem, Product, SalesRow};

impl FromRow<'_, PgRow> for Product {
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row.try_get("id")?,
            sku: row.try_get("sku")?,
            name: row.try_get("name")?,
            price_cents: row.try_get("price_cents")?,
            stock: row.try_get("stock")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

impl FromRow<'_, PgRow> for Customer {
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row.try_get("id")?,
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

impl FromRow<'_, PgRow> for OrderItem {
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        Ok(Self {
            product_id: row.try_get("product_id")?,
            quantity: row.try_get("quantity")?,
            unit_price_cents: row.try_get("unit_price_cents")?,
        })
    }
}

impl FromRow<'_, PgRow> for SalesRow {
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        Ok(Self {
            product_id: row.try_get("product_id")?,
            sku: row.try_get("sku")?,
            name: row.try_get("name")?,
            units: row.try_get("units")?,
            revenue_cents: row.try_get("revenue_cents")?,
        })
    }
}
