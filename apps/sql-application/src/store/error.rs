//! What the store answers when it cannot do the work: the database's errors sorted by
//! what the client should hear — the stored state refuses the request (not found, a
//! conflict), PostgreSQL cannot do it now (unavailable: retry), or a bug.

use sqlx::error::ErrorKind;

use crate::domain::order::Rejection;

/// Why the store could not do the work.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row.
    #[error("{0}")]
    NotFound(String),
    /// The request contradicts the stored state (stock, references, uniqueness).
    #[error("{detail}")]
    Conflict {
        /// Stable identifier of the problem kind.
        slug: &'static str,
        /// What conflicts.
        detail: String,
    },
    /// An `Idempotency-Key` reused with a different request.
    #[error("{0}")]
    KeyReused(String),
    /// PostgreSQL refused a value of the request (a data exception or a CHECK): the
    /// fields' rules should have caught it first, so this is the last line, never a 500.
    #[error("{0}")]
    Unstorable(String),
    /// PostgreSQL cannot be reached, is restarting, or the pool is exhausted.
    #[error("{detail}")]
    Unavailable {
        /// Stable identifier of the problem kind.
        slug: &'static str,
        /// What happened.
        detail: String,
    },
    /// A bug or an unexpected database error.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl StoreError {
    /// Whether the database could not do the work (as opposed to refusing it).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }

    fn unavailable(slug: &'static str, detail: impl Into<String>) -> Self {
        Self::Unavailable {
            slug,
            detail: detail.into(),
        }
    }

    fn conflict(slug: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict {
            slug,
            detail: detail.into(),
        }
    }
}

impl From<Rejection> for StoreError {
    fn from(rejection: Rejection) -> Self {
        Self::conflict(rejection.slug(), rejection.to_string())
    }
}

impl From<sqlx::Error> for StoreError {
    /// Sorts a database error into what the client should hear.
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut => Self::unavailable(
                "database-unavailable",
                "no database connection became available in time (PostgreSQL is down or the pool is exhausted)",
            ),
            sqlx::Error::PoolClosed => {
                Self::unavailable("database-unavailable", "the app is shutting down")
            }
            sqlx::Error::Io(err) => Self::unavailable(
                "database-unavailable",
                format!("connection to PostgreSQL failed: {err}"),
            ),
            sqlx::Error::Database(db) => database(db),
            sqlx::Error::Protocol(message) if message.contains("connection") => {
                Self::unavailable("database-unavailable", message)
            }
            other => Self::Unexpected(anyhow::Error::new(other).context("database error")),
        }
    }
}

/// An error PostgreSQL answered: constraint violations are conflicts, timeouts and
/// refusals are unavailability, the rest is unexpected.
fn database(db: Box<dyn sqlx::error::DatabaseError>) -> StoreError {
    let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
    let constraint = db.constraint().unwrap_or_default().to_owned();
    match (db.kind(), code.as_str()) {
        (ErrorKind::UniqueViolation, _) => match constraint.as_str() {
            "products_sku_key" => {
                StoreError::conflict("sku-taken", "a product with this sku exists")
            }
            "customers_email_key" => {
                StoreError::conflict("email-taken", "a customer with this email exists")
            }
            _ => StoreError::conflict("duplicate", format!("duplicate value ({constraint})")),
        },
        (ErrorKind::ForeignKeyViolation, _) => match constraint.as_str() {
            "orders_customer_id_fkey" => StoreError::conflict(
                "customer-referenced",
                "the customer has orders (or does not exist)",
            ),
            "order_items_product_id_fkey" => StoreError::conflict(
                "product-referenced",
                "the product is part of orders (or does not exist)",
            ),
            _ => StoreError::conflict("referenced", format!("reference violated ({constraint})")),
        },
        (ErrorKind::CheckViolation, _) => StoreError::Unstorable(format!(
            "PostgreSQL cannot store a value of this request ({constraint})"
        )),
        // Class 22, data exceptions: a NUL byte, a number out of range, ...
        (_, code) if code.starts_with("22") => StoreError::Unstorable(format!(
            "PostgreSQL cannot store a value of this request: {}",
            db.message()
        )),
        (_, "57014") => StoreError::unavailable(
            "database-timeout",
            "the query ran longer than the statement timeout",
        ),
        (_, "42P01") => {
            StoreError::unavailable("database-not-migrated", "the schema is not migrated yet")
        }
        (_, code) if code.starts_with("08") || code.starts_with("57P") || code == "53300" => {
            StoreError::unavailable(
                "database-unavailable",
                format!("PostgreSQL refused the work ({code})"),
            )
        }
        _ => StoreError::Unexpected(anyhow::Error::new(sqlx::Error::Database(db))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_timeout_is_unavailable_not_a_bug() {
        assert!(StoreError::from(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(StoreError::from(sqlx::Error::PoolClosed).is_unavailable());
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(StoreError::from(sqlx::Error::Io(io)).is_unavailable());
    }

    #[test]
    fn other_errors_are_unexpected() {
        let err = StoreError::from(sqlx::Error::ColumnNotFound("x".into()));
        assert!(matches!(err, StoreError::Unexpected(_)));
    }

    #[test]
    fn a_rejected_order_is_a_conflict_of_its_kind() {
        let err = StoreError::from(Rejection::UnknownCustomer(3));
        assert!(
            matches!(err, StoreError::Conflict { slug: "unknown-customer", ref detail } if detail == "no customer with id 3")
        );
    }
}
