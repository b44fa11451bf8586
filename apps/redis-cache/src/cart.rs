//! A session's shopping cart: what a storefront puts in it (lines of a product, its
//! SKU and a quantity), validated before it is stored, and its stored form (JSON
//! under `<prefix>cart:<token>`). Pure: no Redis here.
//!
//! Every rule of a cart is in its OpenAPI document: a cart is stored as it was put,
//! line for line. A product on two lines is two lines (checkout reserves each, the
//! orders service adds them up): a rule across lines is one JSON Schema cannot
//! state, and a rule the document does not carry is one clients cannot know.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use service_kit::input::{Field, IdField, Int, ListOf, Matching, Pattern};
use service_kit::problem::FieldProblem;

/// Most lines one cart holds (an order takes at most 50).
pub const MAX_LINES: usize = 50;
/// Most units of one line.
pub const MAX_QUANTITY: i32 = 1000;

/// The SKU of a cart line: what the inventory and the catalog know a product by.
#[derive(Debug)]
pub struct CartSku;

impl Pattern for CartSku {
    const NAME: &'static str = "sku";
    const MIN: usize = 1;
    const MAX: usize = 64;
    const PATTERN: &'static str = "^[A-Z0-9._-]+$";
}

/// One line of a cart, as stored and answered.
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

/// A cart, as stored and answered: its lines as put. Empty when nothing was put in
/// it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Object, Serialize, Deserialize)]
pub struct Cart {
    /// At most 50 lines.
    pub items: Vec<CartLine>,
}

/// One line of a cart to store: its rules are in the document and checked from the
/// same definition (no coercion: `"sku": 0` is refused, naming `items[0].sku`).
#[derive(Debug, Object)]
pub struct CartLineRequest {
    /// The orders service's product id (sql-application).
    pub product_id: Field<IdField>,
    /// The stock-keeping unit the inventory and the catalog know it by.
    pub sku: Field<Matching<CartSku>>,
    /// Units.
    pub quantity: Field<Int<1, { MAX_QUANTITY as i64 }>>,
}

/// A cart to store (it replaces the session's cart; an empty one clears it).
#[derive(Debug, Object)]
pub struct CartRequest {
    /// Up to 50 lines, stored as put.
    pub items: Field<ListOf<CartLineRequest, 0, MAX_LINES>>,
}

impl CartRequest {
    /// The cart, or every field at fault, each named (`items[2].sku`).
    pub fn parse(self) -> Result<Cart, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let lines = self.items.check("items", &mut problems).unwrap_or_default();
        let mut items = Vec::with_capacity(lines.len());
        for (index, line) in lines.into_iter().enumerate() {
            let at = |field: &str| format!("items[{index}].{field}");
            let product_id = line.product_id.check(&at("product_id"), &mut problems);
            let sku = line.sku.check(&at("sku"), &mut problems);
            let quantity = line.quantity.check(&at("quantity"), &mut problems);
            if let (Some(product_id), Some(sku), Some(quantity)) = (product_id, sku, quantity) {
                items.push(CartLine {
                    product_id,
                    sku,
                    quantity: i32::try_from(quantity).unwrap_or(MAX_QUANTITY),
                });
            }
        }
        if problems.is_empty() {
            Ok(Cart { items })
        } else {
            Err(problems)
        }
    }
}

impl Cart {
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

#[cfg(test)]
mod tests {
    use poem_openapi::types::ParseFromJSON;
    use serde_json::{Value, json};

    use super::*;

    fn parse(body: Value) -> Result<Cart, Vec<String>> {
        CartRequest::parse_from_json(Some(body))
            .unwrap()
            .parse()
            .map_err(|problems| problems.into_iter().map(|p| p.field).collect())
    }

    #[test]
    fn a_good_cart_and_an_empty_one_pass() {
        let cart = parse(json!({"items": [
            {"product_id": 1, "sku": "SKU-00001", "quantity": 2},
            {"product_id": 2, "sku": "MUG_2.0", "quantity": 1000},
        ]}))
        .unwrap();
        assert_eq!(cart.items[1].sku, "MUG_2.0");
        assert_eq!(parse(json!({"items": []})), Ok(Cart::default()));
    }

    #[test]
    fn every_bad_field_is_named() {
        let fields = parse(json!({"items": [
            {"product_id": 0, "sku": "sku", "quantity": 0},
            {"product_id": 5, "sku": "", "quantity": 1},
            {"product_id": 5, "sku": "A", "quantity": 1001},
        ]}))
        .unwrap_err();
        assert_eq!(
            fields,
            [
                "items[0].product_id",
                "items[0].sku",
                "items[0].quantity",
                "items[1].sku",
                "items[2].quantity",
            ]
        );
    }

    #[test]
    fn a_product_on_two_lines_is_kept_as_put() {
        let cart = parse(json!({"items": [
            {"product_id": 1, "sku": "A", "quantity": 1},
            {"product_id": 1, "sku": "A", "quantity": 2},
        ]}))
        .unwrap();
        assert_eq!(cart.items.len(), 2);
    }

    #[test]
    fn wrong_json_types_are_refused_not_coerced() {
        let fields = parse(json!({"items": [
            {"product_id": "7", "sku": 0, "quantity": true},
        ]}))
        .unwrap_err();
        assert_eq!(
            fields,
            ["items[0].product_id", "items[0].sku", "items[0].quantity"]
        );
        assert_eq!(parse(json!({"items": {}})).unwrap_err(), ["items"]);
    }

    #[test]
    fn too_many_lines_are_refused() {
        let items: Vec<Value> = (1..=51)
            .map(|id| json!({"product_id": id, "sku": "S", "quantity": 1}))
            .collect();
        assert_eq!(parse(json!({ "items": items })).unwrap_err(), ["items"]);
    }

    #[test]
    fn the_stored_form_round_trips_and_garbage_reads_empty() {
        let cart = Cart {
            items: vec![CartLine {
                product_id: 3,
                sku: "SKU-3".into(),
                quantity: 4,
            }],
        };
        assert_eq!(Cart::from_json(&cart.to_json()), cart);
        assert_eq!(Cart::from_json("not json"), Cart::default());
    }
}
