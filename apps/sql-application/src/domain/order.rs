//! An order as it may be placed (a customer, distinct products in sane quantities),
//! and the checks it must pass against the stored state — the customer exists, every
//! product exists and has the stock — that decide what placing it writes.

use std::collections::{BTreeMap, BTreeSet};

use service_kit::problem::FieldProblem;

use super::Errors;

/// One line of an order request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineInput {
    /// The product ordered.
    pub product_id: i64,
    /// How many units, 1–1000.
    pub quantity: i32,
}

/// An order as it may be placed: a customer and distinct products.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderInput {
    /// Who orders.
    pub customer_id: i64,
    /// What, each product at most once.
    pub lines: Vec<LineInput>,
}

/// Most units of one product in one order line.
pub const MAX_QUANTITY: i32 = 1000;

impl OrderInput {
    /// Validates an order request; `max_items` bounds the number of lines.
    pub fn parse(
        customer_id: i64,
        lines: &[LineInput],
        max_items: usize,
    ) -> Result<Self, Vec<FieldProblem>> {
        let mut errors = Errors::default();
        if customer_id <= 0 {
            errors.add("customer_id", "must be a positive id");
        }
        if lines.is_empty() {
            errors.add("items", "must contain at least one item");
        } else if lines.len() > max_items {
            errors.add("items", format!("must contain at most {max_items} items"));
        }
        let mut seen = BTreeSet::new();
        for (index, line) in lines.iter().enumerate() {
            if line.product_id <= 0 {
                errors.add(
                    format!("items[{index}].product_id"),
                    "must be a positive id",
                );
            } else if !seen.insert(line.product_id) {
                errors.add(
                    format!("items[{index}].product_id"),
                    "is listed twice; order each product once with its total quantity",
                );
            }
            if !(1..=MAX_QUANTITY).contains(&line.quantity) {
                errors.add(
                    format!("items[{index}].quantity"),
                    format!("must be between 1 and {MAX_QUANTITY}"),
                );
            }
        }
        errors.finish(Self {
            customer_id,
            lines: lines.to_vec(),
        })
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
}

impl Rejection {
    /// The problem kind clients see.
    pub fn slug(&self) -> &'static str {
        match self {
            Self::UnknownCustomer(_) => "unknown-customer",
            Self::UnknownProducts(_) => "unknown-product",
            Self::InsufficientStock(_) => "insufficient-stock",
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
            .map(|line| line.unit_price_cents * i64::from(line.quantity))
            .sum();
        Ok(Placement { lines, total_cents })
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: Vec<FieldProblem>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn orders_need_distinct_products_in_sane_quantities() {
        let line = |product_id, quantity| LineInput {
            product_id,
            quantity,
        };
        assert!(OrderInput::parse(1, &[line(1, 2), line(2, 1000)], 50).is_ok());
        assert_eq!(
            fields(OrderInput::parse(0, &[], 50).unwrap_err()),
            ["customer_id", "items"]
        );
        assert_eq!(
            fields(
                OrderInput::parse(1, &[line(1, 0), line(1, 1), line(-3, 1001)], 50).unwrap_err()
            ),
            [
                "items[0].quantity",
                "items[1].product_id",
                "items[2].product_id",
                "items[2].quantity"
            ]
        );
        assert_eq!(
            fields(OrderInput::parse(1, &[line(1, 1), line(2, 1)], 1).unwrap_err()),
            ["items"]
        );
    }
    fn order(lines: &[(i64, i32)]) -> OrderInput {
        let lines: Vec<LineInput> = lines
            .iter()
            .map(|&(product_id, quantity)| LineInput {
                product_id,
                quantity,
            })
            .collect();
        OrderInput::parse(7, &lines, 50).unwrap()
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
