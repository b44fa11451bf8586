//! A product as it may be stored: a normalised sku, a name, a price and a stock
//! within their bounds. The bounds are the rules of the request's fields, so the
//! OpenAPI document shows exactly what is checked.

use service_kit::input::{Int, Matching, Pattern, Text};

/// Most cents one unit may cost (10 000 000.00): with at most
/// [`super::order::MAX_QUANTITY`] units per line and [`super::order::MAX_ITEMS`] lines,
/// no order total comes near `i64::MAX`.
pub const MAX_PRICE_CENTS: i64 = 1_000_000_000;
/// Most units in stock.
pub const MAX_STOCK: i64 = 1_000_000_000;

/// A stock-keeping unit as sent: 1–64 of letters, digits, `-`, `_`.
#[derive(Debug)]
pub struct Sku;

impl Pattern for Sku {
    const NAME: &'static str = "sku";
    const MIN: usize = 1;
    const MAX: usize = 64;
    const PATTERN: &'static str = "^[A-Za-z0-9_-]+$";
}

/// The rule of a product's sku.
pub type SkuField = Matching<Sku>;
/// The rule of a display name: 1–200 characters, no NUL.
pub type NameField = Text<1, 200>;
/// The rule of a unit price in cents.
pub type PriceField = Int<0, MAX_PRICE_CENTS>;
/// The rule of a stock level.
pub type StockField = Int<0, MAX_STOCK>;

/// A product as it may be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductInput {
    /// Stock-keeping unit, upper-cased.
    pub sku: String,
    /// Display name, 1–200 characters.
    pub name: String,
    /// Unit price in cents, 0 to [`MAX_PRICE_CENTS`].
    pub price_cents: i64,
    /// Units in stock, 0 to [`MAX_STOCK`].
    pub stock: i32,
}

impl ProductInput {
    /// A product from fields that passed their rules: the sku upper-cased, the name
    /// trimmed.
    pub fn new(sku: &str, name: String, price_cents: i64, stock: i64) -> Self {
        Self {
            sku: sku.to_ascii_uppercase(),
            name: name.trim().to_owned(),
            price_cents,
            stock: i32::try_from(stock).unwrap_or(i32::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use service_kit::input::Rule;

    use super::*;

    #[test]
    fn a_sku_is_upper_cased() {
        let product = ProductInput::new("ab-12", " Mug ".into(), 1299, 3);
        assert_eq!(
            (product.sku.as_str(), product.name.as_str()),
            ("AB-12", "Mug")
        );
    }

    #[test]
    fn the_bounds_fit_the_columns_and_every_total() {
        assert!(MAX_STOCK <= i64::from(i32::MAX));
        let line = MAX_PRICE_CENTS * i64::from(super::super::order::MAX_QUANTITY);
        assert!(
            line.checked_mul(super::super::order::MAX_ITEMS as i64)
                .is_some()
        );
    }

    #[test]
    fn skus_are_what_the_pattern_says() {
        for good in ["A", "ab-12_x", &"Z".repeat(64)] {
            assert!(SkuField::parse(&json!(good)).is_ok(), "{good}");
        }
        for bad in ["", "a b", "é", "AB\n", &"Z".repeat(65), "a\u{0}"] {
            assert!(SkuField::parse(&json!(bad)).is_err(), "{bad:?}");
        }
        assert!(PriceField::parse(&json!(MAX_PRICE_CENTS + 1)).is_err());
        assert!(PriceField::parse(&json!(4_611_686_018_427_387_904_i64)).is_err());
    }
}
