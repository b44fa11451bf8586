//! Validated inputs: what the store may assume about a product, customer or order
//! request. Parsing collects every problem with its field, so one 422 names them all.

use std::collections::BTreeSet;

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// JSON path of the field, e.g. `items[2].quantity`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// Collects field errors while a request is parsed.
#[derive(Debug, Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    fn finish<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
    }
}

fn text(errors: &mut Errors, field: &str, value: &str, max: usize) -> String {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        errors.add(field, "must not be empty");
    } else if trimmed.chars().count() > max {
        errors.add(field, format!("must be at most {max} characters"));
    }
    trimmed.to_owned()
}

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
    ) -> Result<Self, Vec<FieldError>> {
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

/// A customer as it may be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerInput {
    /// E-mail address, lower-cased; unique.
    pub email: String,
    /// Display name, 1–200 characters.
    pub name: String,
}

impl CustomerInput {
    /// Validates a customer request.
    pub fn parse(email: &str, name: &str) -> Result<Self, Vec<FieldError>> {
        let mut errors = Errors::default();
        let email = email.trim().to_lowercase();
        let valid = email.len() <= 254
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            })
            && !email.chars().any(char::is_whitespace);
        if !valid {
            errors.add("email", "must be an e-mail address like name@example.com");
        }
        let name = text(&mut errors, "name", name, 200);
        errors.finish(Self { email, name })
    }
}

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
    ) -> Result<Self, Vec<FieldError>> {
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

/// A listing cursor: opaque to clients, the last id seen to us.
pub fn parse_cursor(cursor: &str) -> Option<i64> {
    cursor.parse::<i64>().ok().filter(|id| *id > 0)
}

/// The cursor that continues after `id`.
pub fn cursor_after(id: i64) -> String {
    id.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: Vec<FieldError>) -> Vec<String> {
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

    #[test]
    fn customers_need_an_address_and_a_name() {
        let customer = CustomerInput::parse(" Ada@Example.COM ", "Ada").unwrap();
        assert_eq!(customer.email, "ada@example.com");
        for bad in [
            "ada",
            "@example.com",
            "ada@example",
            "ada@.com",
            "a da@example.com",
        ] {
            assert_eq!(
                fields(CustomerInput::parse(bad, "Ada").unwrap_err()),
                ["email"],
                "{bad}"
            );
        }
        assert_eq!(
            fields(CustomerInput::parse("a@b.io", " ").unwrap_err()),
            ["name"]
        );
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

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        assert_eq!(parse_cursor(&cursor_after(42)), Some(42));
        assert_eq!(parse_cursor("0"), None);
        assert_eq!(parse_cursor("abc"), None);
    }
}
