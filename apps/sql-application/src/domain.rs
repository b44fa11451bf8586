//! Validated inputs: what the store may assume about a product, customer or order
//! request, one module each, and the checks an order must pass against the stored
//! state before it is written. Parsing collects every problem with its field, so one
//! 422 names them all. Pure: nothing here talks to PostgreSQL.

pub mod customer;
pub mod order;
pub mod product;

use service_kit::problem::FieldProblem;

/// Collects field errors while a request is parsed.
#[derive(Debug, Default)]
pub struct Errors(Vec<FieldProblem>);

impl Errors {
    /// Records a problem with `field`.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldProblem::new(field, message));
    }

    /// `value` when nothing was recorded, else every problem recorded.
    pub fn finish<T>(self, value: T) -> Result<T, Vec<FieldProblem>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
    }
}

/// `value` trimmed; empty or longer than `max` characters is a problem with `field`.
pub fn text(errors: &mut Errors, field: &str, value: &str, max: usize) -> String {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        errors.add(field, "must not be empty");
    } else if trimmed.chars().count() > max {
        errors.add(field, format!("must be at most {max} characters"));
    }
    trimmed.to_owned()
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

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        assert_eq!(parse_cursor(&cursor_after(42)), Some(42));
        assert_eq!(parse_cursor("0"), None);
        assert_eq!(parse_cursor("abc"), None);
    }

    #[test]
    fn problems_are_collected_in_order() {
        let mut errors = Errors::default();
        assert_eq!(text(&mut errors, "name", "  Mug ", 10), "Mug");
        text(&mut errors, "name", " ", 10);
        errors.add("sku", "is taken");
        let fields: Vec<String> = errors
            .finish(())
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["name", "sku"]);
    }
}
