//! A session's shopping cart: what a storefront puts in it (lines of a product, its
//! SKU and a quantity), validated before it is stored, and its stored form (JSON
//! under `<prefix>cart:<token>`). Pure: no Redis here.

use std::collections::BTreeSet;

use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use service_kit::problem::FieldProblem;

/// Most lines one cart holds (an order takes at most 50).
pub const MAX_LINES: usize = 50;
/// Most units of one line.
pub const MAX_QUANTITY: i32 = 1000;
/// Longest SKU.
const MAX_SKU: usize = 64;

/// One line of a cart.
#[derive(Debug, Clone, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct CartLine {
    /// The orders service's product id (sql-application), positive.
    pub product_id: i64,
    /// The stock-keeping unit the inventory and the catalog know it by: 1–64 of
    /// `A-Z 0-9 - _ .`.
    pub sku: String,
    /// Units, 1–1000.
    pub quantity: i32,
}

/// A cart: its lines, each product once. Empty when nothing was put in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct Cart {
    /// At most 50 lines.
    pub items: Vec<CartLine>,
}

impl Cart {
    /// Checks every line; the problems name each field at fault.
    pub fn validate(&self) -> Result<(), Vec<FieldProblem>> {
        let mut problems = Vec::new();
        if self.items.len() > MAX_LINES {
            problems.push(FieldProblem::new(
                "items",
                format!("must hold at most {MAX_LINES} lines"),
            ));
        }
        let mut seen = BTreeSet::new();
        for (index, line) in self.items.iter().enumerate() {
            let at = |field: &str| format!("items[{index}].{field}");
            if line.product_id <= 0 {
                problems.push(FieldProblem::new(at("product_id"), "must be a positive id"));
            } else if !seen.insert(line.product_id) {
                problems.push(FieldProblem::new(
                    at("product_id"),
                    "is listed twice; put each product in once with its total quantity",
                ));
            }
            if !valid_sku(&line.sku) {
                problems.push(FieldProblem::new(
                    at("sku"),
                    format!("must be 1–{MAX_SKU} of `A-Z 0-9 - _ .`"),
                ));
            }
            if !(1..=MAX_QUANTITY).contains(&line.quantity) {
                problems.push(FieldProblem::new(
                    at("quantity"),
                    format!("must be between 1 and {MAX_QUANTITY}"),
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// The stored form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{\"items\":[]}".to_owned())
    }

    /// Reads the stored form; a value that is not a cart reads as an empty one (it
    /// can only come from another writer of the key).
    pub fn from_json(text: &str) -> Self {
        serde_json::from_str(text).unwrap_or_default()
    }
}

fn valid_sku(sku: &str) -> bool {
    (1..=MAX_SKU).contains(&sku.len())
        && sku.bytes().all(|b| {
            b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(product_id: i64, sku: &str, quantity: i32) -> CartLine {
        CartLine {
            product_id,
            sku: sku.into(),
            quantity,
        }
    }

    #[test]
    fn a_good_cart_and_an_empty_one_pass() {
        let cart = Cart {
            items: vec![line(1, "SKU-00001", 2), line(2, "MUG_2.0", 1000)],
        };
        assert_eq!(cart.validate(), Ok(()));
        assert_eq!(Cart::default().validate(), Ok(()));
    }

    #[test]
    fn every_bad_field_is_named() {
        let cart = Cart {
            items: vec![line(0, "sku", 0), line(5, "", 1), line(5, "A", 1001)],
        };
        let fields: Vec<String> = cart
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(
            fields,
            [
                "items[0].product_id",
                "items[0].sku",
                "items[0].quantity",
                "items[1].sku",
                "items[2].product_id",
                "items[2].quantity"
            ]
        );
    }

    #[test]
    fn too_many_lines_are_refused() {
        let cart = Cart {
            items: (1..=51).map(|id| line(id, "S", 1)).collect(),
        };
        assert_eq!(cart.validate().unwrap_err()[0].field, "items");
    }

    #[test]
    fn the_stored_form_round_trips_and_garbage_reads_empty() {
        let cart = Cart {
            items: vec![line(3, "SKU-3", 4)],
        };
        assert_eq!(Cart::from_json(&cart.to_json()), cart);
        assert_eq!(Cart::from_json("not json"), Cart::default());
    }
}
