//! The API's one error type and its single mapping to problem+json. A downstream
//! outage is a 503 `dependency-unavailable` whose `dependency` names the app (or
//! `redis`, checkout's own store); a downstream's refusal becomes the shopper's 4xx.
//! Each status is described here once for the OpenAPI document ([`Errors`]).

use poem::http::StatusCode;
use service_kit::problem::{Documented, DocumentedError, FieldProblem, Problem};

use crate::hops::HopError;
use crate::store::StoreError;

/// Why a checkout failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Invalid fields, each named.
    #[error("invalid request")]
    Invalid(Vec<FieldProblem>),
    /// No live session for the token.
    #[error("{0}")]
    Unauthorized(String),
    /// Nothing to check out.
    #[error("the cart is empty")]
    EmptyCart,
    /// The key was used for another customer's checkout.
    #[error("this Idempotency-Key belongs to another checkout")]
    KeyReused,
    /// A checkout with the key is running.
    #[error("a checkout with this Idempotency-Key is in progress")]
    InProgress,
    /// A line cannot be reserved (too few units, or inventory does not know the SKU).
    #[error("{detail}")]
    OutOfStock {
        /// `out-of-stock` or `unknown-sku`.
        slug: &'static str,
        /// The line's SKU.
        sku: String,
        /// Inventory's explanation.
        detail: String,
        /// Reservations given back.
        released: usize,
    },
    /// sql-application refused the order (unknown customer or product, stock).
    #[error("{detail}")]
    OrderRefused {
        /// sql-application's problem type.
        kind: Option<String>,
        /// Its explanation.
        detail: String,
        /// Reservations given back.
        released: usize,
    },
    /// A hop is unreachable, too slow or failing.
    #[error("{error}")]
    Dependency {
        /// What happened.
        error: HopError,
        /// Reservations given back.
        released: usize,
    },
    /// checkout's own Redis is unavailable.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The errors of an operation that documents the statuses `S` (bits of
/// `service_kit::problem::status`).
pub type Errors<const S: u32> = Documented<ApiError, S>;

impl DocumentedError for ApiError {
    const STATUSES: &'static [(u16, &'static str)] = &[
        (
            400,
            "Missing or malformed `Idempotency-Key`, or an unreadable body.",
        ),
        (
            401,
            "Missing, unknown or expired session (redis-cache's answer).",
        ),
        (
            409,
            "Out of stock or an unknown SKU (`sku` names the line), the order refused, or a checkout with the key still running; nothing was placed.",
        ),
        (413, "The body is larger than `server.max_body_bytes`."),
        (415, "The body is not `application/json`."),
        (
            422,
            "Invalid fields, an empty cart, or the key reused for another customer.",
        ),
        (
            503,
            "A dependency is unavailable (`dependency` names it); the reservations were released, retry with the same key.",
        ),
    ];

    fn into_problem(self) -> Problem {
        let detail = self.to_string();
        match self {
            Self::Invalid(errors) => Problem::validation(&errors),
            Self::Unauthorized(_) => {
                Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized")
                    .with_detail(detail)
            }
            Self::EmptyCart => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "empty-cart", "Empty cart")
                    .with_detail(detail)
            }
            Self::KeyReused => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency key reused",
            )
            .with_detail(detail),
            Self::InProgress => Problem::new(
                StatusCode::CONFLICT,
                "checkout-in-progress",
                "Checkout in progress",
            )
            .with_detail(detail),
            Self::OutOfStock {
                slug,
                sku,
                released,
                ..
            } => Problem::new(StatusCode::CONFLICT, slug, "Cannot reserve")
                .with_detail(detail)
                .with("sku", sku)
                .with("released_reservations", released),
            Self::OrderRefused { kind, released, .. } => {
                Problem::new(StatusCode::CONFLICT, "order-refused", "Order refused")
                    .with_detail(detail)
                    .with("dependency", "sql-application")
                    .with("dependency_problem", kind)
                    .with("released_reservations", released)
            }
            Self::Dependency { error, released } => {
                tracing::warn!(dependency = error.hop().service(), error = %error, released, "checkout failed");
                unavailable(error.hop().service(), detail).with("released_reservations", released)
            }
            Self::Store(err) => {
                tracing::warn!(error = %err, "idempotency store unavailable");
                unavailable("redis", detail)
            }
        }
    }
}

/// 503 naming `dependency`.
fn unavailable(dependency: &str, detail: String) -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "dependency-unavailable",
        "Dependency unavailable",
    )
    .with_detail(detail)
    .with("dependency", dependency)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hops::Hop;

    #[test]
    fn an_outage_is_a_503_naming_the_dependency() {
        let problem = ApiError::Dependency {
            error: HopError::unavailable(Hop::Orders, "timed out"),
            released: 2,
        }
        .into_problem();
        assert_eq!(problem.status, 503);
        assert_eq!(
            problem.kind,
            "urn:obi-examples:problem:dependency-unavailable"
        );
        assert_eq!(problem.extensions["dependency"], "sql-application");
        assert_eq!(problem.extensions["released_reservations"], 2);
    }
}
