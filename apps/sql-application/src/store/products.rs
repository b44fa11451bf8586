//! The `products` table.

use super::{Pool, StoreError};
use crate::domain::product::ProductInput;
use crate::model::Product;

macro_rules! columns {
    () => {
        "id, sku, name, price_cents, stock, created_at, updated_at"
    };
}

/// Inserts a product; a taken sku is a conflict.
pub async fn create(pool: &Pool, input: &ProductInput) -> Result<Product, StoreError> {
    let sql = concat!(
        "INSERT INTO products (sku, name, price_cents, stock) VALUES ($1, $2, $3, $4) RETURNING ",
        columns!()
    );
    Ok(sqlx::query_as(sql)
        .bind(&input.sku)
        .bind(&input.name)
        .bind(input.price_cents)
        .bind(input.stock)
        .fetch_one(&mut *pool.acquire().await?)
        .await?)
}

/// One product.
pub async fn get(pool: &Pool, id: i64) -> Result<Product, StoreError> {
    let sql = concat!("SELECT ", columns!(), " FROM products WHERE id = $1");
    sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(&mut *pool.acquire().await?)
        .await?
        .ok_or_else(|| not_found(id))
}

/// A page of products by id, after the cursor; `limit + 1` rows tell whether more exist.
pub async fn list(pool: &Pool, after: Option<i64>, limit: i64) -> Result<Vec<Product>, StoreError> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM products WHERE ($1::bigint IS NULL OR id > $1) ORDER BY id LIMIT $2"
    );
    Ok(sqlx::query_as(sql)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *pool.acquire().await?)
        .await?)
}

/// Replaces a product's fields.
pub async fn update(pool: &Pool, id: i64, input: &ProductInput) -> Result<Product, StoreError> {
    let sql = concat!(
        "UPDATE products SET sku = $2, name = $3, price_cents = $4, stock = $5, updated_at = now() \
         WHERE id = $1 RETURNING ",
        columns!()
    );
    sqlx::query_as(sql)
        .bind(id)
        .bind(&input.sku)
        .bind(&input.name)
        .bind(input.price_cents)
        .bind(input.stock)
        .fetch_optional(&mut *pool.acquire().await?)
        .await?
        .ok_or_else(|| not_found(id))
}

/// Deletes a product; one that orders reference is a conflict.
pub async fn delete(pool: &Pool, id: i64) -> Result<(), StoreError> {
    super::delete_one(pool, "DELETE FROM products WHERE id = $1", id)
        .await?
        .ok_or_else(|| not_found(id))
}

fn not_found(id: i64) -> StoreError {
    StoreError::NotFound(format!("no product with id {id}"))
}
