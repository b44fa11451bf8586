//! A product as it may be stored: a normalised sku, a name, a price and a stock that
//! are not negative.

use service_kit::problem::FieldProblem;

use super::{Errors, text};

/// A product as it may be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductInput {
    /// Stock-keeping unit: 1–64 of `A-Z 0-9 - _`, upper-cased.
    pub sku: String,
    /// Display name, 1–200 characters.
    pub name: String,
    /// Unit price in cents, ≥ 0.
    pub price_cents: i64,
    /// Units in stock, ≥ 0.
    pub stock: i32,
}

impl ProductInput {
    /// Validates a product request.
    pub fn parse(
        sku: &str,
        name: &str,
        price_cents: i64,
        stock: i32,
    ) -> Result<Self, Vec<FieldProblem>> {
        let mut errors = Errors::default();
        let sku = sku.trim().to_ascii_uppercase();
        if sku.is_empty() || sku.len() > 64 {
            errors.add("sku", "must be 1 to 64 characters");
        } else if !sku
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            errors.add("sku", "may only contain letters, digits, `-` and `_`");
        }
        let name = text(&mut errors, "name", name, 200);
        if price_cents < 0 {
            errors.add("price_cents", "must not be negative");
        }
        if stock < 0 {
            errors.add("stock", "must not be negative");
        }
        errors.finish(Self {
            sku,
            name,
            price_cents,
            stock,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: Vec<FieldProblem>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_valid_product_is_normalised() {
        let product = ProductInput::parse(" ab-12 ", " Mug ", 1299, 3).unwrap();
        assert_eq!(product.sku, "AB-12");
        assert_eq!(product.name, "Mug");
    }

    #[test]
    fn every_bad_product_field_is_named() {
        let errors = ProductInput::parse("a b", "", -1, -5).unwrap_err();
        assert_eq!(fields(errors), ["sku", "name", "price_cents", "stock"]);
        let long = "x".repeat(65);
        assert_eq!(
            fields(ProductInput::parse(&long, &"n".repeat(201), 0, 0).unwrap_err()),
            ["sku", "name"]
        );
    }
}
