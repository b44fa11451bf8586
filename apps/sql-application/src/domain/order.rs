//! An order as it may be placed (a customer, distinct products in sane quantities),
//! and the checks it must pass against the stored state — the customer exists, every
//! product exists and has the stock — that decide what placing it writes.

use std::collections::BTreeMap;

use service_kit::input::{IdField, Int};

/// One line of an order request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineInput {
    /// The product ordered.
    pub product_id: i64,
    /// How many units.
    pub quantity: i32,
}

/// An order as it may be placed: a customer and distinct products (lines naming the
/// same product are merged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderInput {
    /// Who orders.
    pub customer_id: i64,
    /// What, each product once, in the order first named.
    pub lines: Vec<LineInput>,
}

/// Most units of one product in one order line.
pub const MAX_QUANTITY: i32 = 1000;
/// Most lines in one order request (`orders.max_items` may lower it).
pub const MAX_ITEMS: u32 = 50;

/// The rule of a line's quantity.
pub type QuantityField = Int<1, { MAX_QUANTITY as i64 }>;
/// The rule of a customer's or product's id in a body.
pub type RefField = IdField;

impl OrderInput {
    /// An order from lines that passed their rules; lines naming the same product
    /// become one, their quantities added.
    pub fn new(customer_id: i64, lines: &[LineInput]) -> Self {
        let mut merged: Vec<LineInput> = Vec::with_capacity(lines.len());
        for line in lines {
            match merged.iter_mut().find(|m| m.product_id == line.product_id) {
                Some(known) => known.quantity = known.quantity.saturating_add(line.quantity),
                None => merged.push(*line),
            }
        }
        Self {
            customer_id,
            lines: merged,
        }
    }
}

/// A product as placement sees it, read (and locked) in the order's transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockLevel {
    /// Its price now, in cents.
    pub price_cents: i64,
    /// Units in stock now.
    pub stock: i32,
}

/// One line as placed: the product, how many, at which price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricedLine {
    /// The product.
    pub product_id: i64,
    /// Units taken from stock.
    pub quantity: i32,
    /// Its price when placed, in cents.
    pub unit_price_cents: i64,
}

/// What placing an order writes: its lines (in request order) and their total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// Each line at the product's current price.
    pub lines: Vec<PricedLine>,
    /// Sum of quantity × unit price, in cents.
    pub total_cents: i64,
}

/// Why the stored state refuses an order (a 409 naming what conflicts).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The customer does not exist.
    #[error("no customer with id {0}")]
    UnknownCustomer(i64),
    /// Products that do not exist, by id.
    #[error("no product with id {}", join(.0, ", "))]
    UnknownProducts(Vec<String>),
    /// Lines asking for more than the stock: "product 7 has 2 of 5", ...
    #[error("{}", join(.0, "; "))]
    InsufficientStock(Vec<String>),
    /// The total does not fit in 63 bits (only prices stored before prices were
    /// bounded can get there).
    #[error("the order's total exceeds {} cents", i64::MAX)]
    TotalTooLarge,
}

impl Rejection {
    /// The problem kind clients see.
    pub fn slug(&self) -> &'static str {
        match self {
            Self::UnknownCustomer(_) => "unknown-customer",
            Self::UnknownProducts(_) => "unknown-product",
            Self::InsufficientStock(_) => "insufficient-stock",
            Self::TotalTooLarge => "total-too-large",
        }
    }
}

fn join(items: &[String], separator: &str) -> String {
    items.join(separator)
}

impl OrderInput {
    /// The product ids, in request order.
    pub fn product_ids(&self) -> Vec<i64> {
        self.lines.iter().map(|line| line.product_id).collect()
    }

    /// The first check: the customer exists (`found`).
    pub fn require_customer(&self, found: bool) -> Result<(), Rejection> {
        if found {
            Ok(())
        } else {
            Err(Rejection::UnknownCustomer(self.customer_id))
        }
    }

    /// The second: every product exists in `stock` and has enough units; then what
    /// placing the order writes.
    pub fn place(&self, stock: &BTreeMap<i64, StockLevel>) -> Result<Placement, Rejection> {
        let unknown: Vec<String> = self
            .lines
            .iter()
            .filter(|line| !stock.contains_key(&line.product_id))
            .map(|line| line.product_id.to_string())
            .collect();
        if !unknown.is_empty() {
            return Err(Rejection::UnknownProducts(unknown));
        }
        let short: Vec<String> = self
            .lines
            .iter()
            .filter(|line| stock[&line.product_id].stock < line.quantity)
            .map(|line| {
                format!(
                    "product {} has {} of {}",
                    line.product_id, stock[&line.product_id].stock, line.quantity
                )
            })
            .collect();
        if !short.is_empty() {
            return Err(Rejection::InsufficientStock(short));
        }
        let lines: Vec<PricedLine> = self
            .lines
            .iter()
            .map(|line| PricedLine {
                product_id: line.product_id,
                quantity: line.quantity,
                unit_price_cents: stock[&line.product_id].price_cents,
            })
            .collect();
        let total_cents = lines
            .iter()
            .try_fold(0_i64, |total, line| {
                line.unit_price_cents
                    .checked_mul(i64::from(line.quantity))
                    .and_then(|cost| total.checked_add(cost))
            })
            .ok_or(Rejection::TotalTooLarge)?;
        Ok(Placement { lines, total_cents })
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_naming_one_product_are_merged_in_first_named_order() {
        let line = |product_id, quantity| LineInput {
            product_id,
            quantity,
        };
        let order = OrderInput::new(1, &[line(2, 1), line(1, 2), line(2, 1000)]);
        assert_eq!(order.lines, [line(2, 1001), line(1, 2)]);
    }

    fn order(lines: &[(i64, i32)]) -> OrderInput {
        let lines: Vec<LineInput> = lines
            .iter()
            .map(|&(product_id, quantity)| LineInput {
                product_id,
                quantity,
            })
            .collect();
        OrderInput::new(7, &lines)
    }

    fn stock(levels: &[(i64, i64, i32)]) -> BTreeMap<i64, StockLevel> {
        levels
            .iter()
            .map(|&(id, price_cents, stock)| (id, StockLevel { price_cents, stock }))
            .collect()
    }

    #[test]
    fn an_order_is_priced_at_the_current_prices_in_request_order() {
        let placement = order(&[(2, 3), (1, 1)])
            .place(&stock(&[(1, 1000, 5), (2, 250, 3)]))
            .unwrap();
        assert_eq!(placement.total_cents, 3 * 250 + 1000);
        assert_eq!(placement.lines[0].product_id, 2);
        assert_eq!(placement.lines[0].unit_price_cents, 250);
    }

    #[test]
    fn a_total_beyond_63_bits_is_refused_not_wrapped() {
        // What the database may still hold from before prices were bounded: 2^62.
        let rejection = order(&[(1, 4)])
            .place(&stock(&[(1, 1 << 62, 10)]))
            .unwrap_err();
        assert_eq!(rejection, Rejection::TotalTooLarge);
        assert_eq!(rejection.slug(), "total-too-large");
    }

    #[test]
    fn an_unknown_customer_is_refused_first() {
        let rejection = order(&[(1, 1)]).require_customer(false).unwrap_err();
        assert_eq!(rejection.slug(), "unknown-customer");
        assert_eq!(rejection.to_string(), "no customer with id 7");
        assert!(order(&[(1, 1)]).require_customer(true).is_ok());
    }

    #[test]
    fn unknown_products_are_named_before_any_shortage() {
        let rejection = order(&[(1, 9), (4, 1), (5, 1)])
            .place(&stock(&[(1, 100, 0)]))
            .unwrap_err();
        assert_eq!(rejection.slug(), "unknown-product");
        assert_eq!(rejection.to_string(), "no product with id 4, 5");
    }

    #[test]
    fn every_short_line_is_named() {
        let rejection = order(&[(1, 2), (2, 1), (3, 5)])
            .place(&stock(&[(1, 100, 1), (2, 100, 1), (3, 100, 4)]))
            .unwrap_err();
        assert_eq!(rejection.slug(), "insufficient-stock");
        assert_eq!(
            rejection.to_string(),
            "product 1 has 1 of 2; product 3 has 4 of 5"
        );
    }
}
