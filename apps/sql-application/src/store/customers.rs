//! The `customers` table.

use super::{Pool, StoreError};
use crate::domain::customer::CustomerInput;
use crate::model::Customer;

macro_rules! columns {
    () => {
        "id, email, name, created_at"
    };
}

/// Inserts a customer; a taken e-mail address is a conflict.
pub async fn create(pool: &Pool, input: &CustomerInput) -> Result<Customer, StoreError> {
    let sql = concat!(
        "INSERT INTO customers (email, name) VALUES ($1, $2) RETURNING ",
        columns!()
    );
    Ok(sqlx::query_as(sql)
        .bind(&input.email)
        .bind(&input.name)
        .fetch_one(&mut *pool.acquire().await?)
        .await?)
}

/// One customer.
pub async fn get(pool: &Pool, id: i64) -> Result<Customer, StoreError> {
    let sql = concat!("SELECT ", columns!(), " FROM customers WHERE id = $1");
    sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(&mut *pool.acquire().await?)
        .await?
        .ok_or_else(|| not_found(id))
}

/// A page of customers by id, after the cursor.
pub async fn list(
    pool: &Pool,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<Customer>, StoreError> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM customers WHERE ($1::bigint IS NULL OR id > $1) ORDER BY id LIMIT $2"
    );
    Ok(sqlx::query_as(sql)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *pool.acquire().await?)
        .await?)
}

/// Replaces a customer's fields.
pub async fn update(pool: &Pool, id: i64, input: &CustomerInput) -> Result<Customer, StoreError> {
    let sql = concat!(
        "UPDATE customers SET email = $2, name = $3 WHERE id = $1 RETURNING ",
        columns!()
    );
    sqlx::query_as(sql)
        .bind(id)
        .bind(&input.email)
        .bind(&input.name)
        .fetch_optional(&mut *pool.acquire().await?)
        .await?
        .ok_or_else(|| not_found(id))
}

/// Deletes a customer; one with orders is a conflict.
pub async fn delete(pool: &Pool, id: i64) -> Result<(), StoreError> {
    super::delete_one(pool, "DELETE FROM customers WHERE id = $1", id)
        .await?
        .ok_or_else(|| not_found(id))
}

fn not_found(id: i64) -> StoreError {
    StoreError::NotFound(format!("no customer with id {id}"))
}
