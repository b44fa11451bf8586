//! A customer as it may be stored: an e-mail address (lower-cased) and a name.

use service_kit::problem::FieldProblem;

use super::{Errors, text};

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
    pub fn parse(email: &str, name: &str) -> Result<Self, Vec<FieldProblem>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: Vec<FieldProblem>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
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
}
