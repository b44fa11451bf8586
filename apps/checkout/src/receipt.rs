//! What a checkout takes and gives, pure (no I/O): the request, the receipt (the order, its lines with the catalog's details) and the
//! idempotency record stored for a key while the checkout runs and after it.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use service_kit::input::{Field, IdField};
use service_kit::problem::FieldProblem;

use crate::hops::catalog::CatalogProduct;
use crate::hops::inventory::Held;
use crate::hops::orders::Order;

/// A checkout of the session's cart.
#[derive(Debug, Object)]
pub struct CheckoutRequest {
    /// sql-application's id of the customer who pays.
    pub customer_id: Field<IdField>,
}

impl CheckoutRequest {
    /// The customer's id, or the problems naming each field at fault.
    pub fn validate(self) -> Result<i64, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        self.customer_id
            .check("customer_id", &mut problems)
            .ok_or(problems)
    }
}

/// One line of a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct ReceiptLine {
    /// sql-application's product id.
    pub product_id: i64,
    /// The SKU.
    pub sku: String,
    /// The catalog's name; `null` when the catalog does not list the SKU.
    #[oai(nullable)]
    pub name: Option<String>,
    /// The catalog's category; `null` like `name`.
    #[oai(nullable)]
    pub category: Option<String>,
    /// Units.
    pub quantity: i32,
    /// Price per unit when ordered.
    pub unit_price_cents: i64,
    /// Inventory's reservation holding the units.
    pub reservation_id: String,
}

/// A placed checkout.
#[derive(Debug, Clone, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct Receipt {
    /// sql-application's order id.
    pub order_id: i64,
    /// Who paid.
    pub customer_id: i64,
    /// The order's total.
    pub total_cents: i64,
    /// The `order_placed` event's id on kafka-streaming.
    pub event_id: String,
    /// Its lines, in cart order.
    pub lines: Vec<ReceiptLine>,
}

impl Receipt {
    /// The receipt of `order`, whose lines were reserved as `held` (in cart order,
    /// with `product_ids`), described by `catalog`.
    pub fn new(
        order: &Order,
        product_ids: &[i64],
        held: &[Held],
        catalog: &[CatalogProduct],
        event_id: String,
    ) -> Self {
        let lines = product_ids
            .iter()
            .zip(held)
            .map(|(&product_id, held)| {
                let unit_price_cents = order
                    .items
                    .iter()
                    .find(|item| item.product_id == product_id)
                    .map_or(0, |item| item.unit_price_cents);
                let product = catalog.iter().find(|p| p.sku == held.sku);
                ReceiptLine {
                    product_id,
                    sku: held.sku.clone(),
                    name: product.map(|p| p.name.clone()),
                    category: product.map(|p| p.category.clone()),
                    quantity: held.quantity,
                    unit_price_cents,
                    reservation_id: held.id.clone(),
                }
            })
            .collect();
        Self {
            order_id: order.id,
            customer_id: order.customer_id,
            total_cents: order.total_cents,
            event_id,
            lines,
        }
    }
}

/// What is stored under an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Record {
    /// A checkout with this key is running.
    Running {
        /// Its customer.
        customer_id: i64,
    },
    /// The checkout with this key placed its order.
    Done {
        /// Its customer.
        customer_id: i64,
        /// Its answer, replayed.
        receipt: Receipt,
    },
}

impl Record {
    /// The stored form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The record stored as `text`; `None` when it is not one (a foreign value).
    pub fn from_json(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }

    /// Whose checkout it is.
    pub fn customer_id(&self) -> i64 {
        match self {
            Self::Running { customer_id } | Self::Done { customer_id, .. } => *customer_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hops::orders::OrderItem;
    use serde_json::json;

    #[test]
    fn a_customer_id_must_be_an_id() {
        let request = |id| CheckoutRequest {
            customer_id: Field::from_json(id),
        };
        for bad in [
            json!(0),
            json!(-1),
            json!("7"),
            json!(9_007_199_254_740_992_i64),
        ] {
            let problems = request(bad.clone()).validate().unwrap_err();
            assert_eq!(problems[0].field, "customer_id", "{bad}");
        }
        assert_eq!(request(json!(7)).validate().ok(), Some(7));
    }

    #[test]
    fn a_receipt_joins_order_reservations_and_catalog_in_cart_order() {
        let order = Order {
            id: 9,
            customer_id: 3,
            total_cents: 700,
            items: vec![
                OrderItem {
                    product_id: 2,
                    quantity: 1,
                    unit_price_cents: 500,
                },
                OrderItem {
                    product_id: 1,
                    quantity: 2,
                    unit_price_cents: 100,
                },
            ],
        };
        let held = |id: &str, sku: &str, quantity| Held {
            id: id.into(),
            sku: sku.into(),
            quantity,
        };
        let catalog = [CatalogProduct {
            sku: "B".into(),
            name: "Bowl".into(),
            category: "kitchen".into(),
        }];
        let receipt = Receipt::new(
            &order,
            &[1, 2],
            &[held("r1", "A", 2), held("r2", "B", 1)],
            &catalog,
            "order-9".into(),
        );
        assert_eq!(receipt.lines[0].unit_price_cents, 100);
        assert_eq!(receipt.lines[0].name, None, "A is not in the catalog");
        assert_eq!(receipt.lines[1].name.as_deref(), Some("Bowl"));
        assert_eq!(receipt.lines[1].reservation_id, "r2");
        let record = Record::Done {
            customer_id: 3,
            receipt,
        };
        assert_eq!(Record::from_json(&record.to_json()), Some(record));
        assert_eq!(Record::from_json("not json"), None);
    }
}
