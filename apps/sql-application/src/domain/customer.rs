//! A customer as it may be stored: an e-mail address (lower-cased) and a name. The
//! address's rule is a pattern, the one the OpenAPI document shows.

use service_kit::input::{Matching, Pattern};

/// An e-mail address as sent: `local@domain.tld` of ASCII letters, digits and the
/// usual punctuation, at most 254 characters.
#[derive(Debug)]
pub struct Email;

impl Pattern for Email {
    const NAME: &'static str = "email";
    const MIN: usize = 6;
    const MAX: usize = 254;
    const PATTERN: &'static str = "^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+$";
}

/// The rule of a customer's e-mail address.
pub type EmailField = Matching<Email>;

/// A customer as it may be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerInput {
    /// E-mail address, lower-cased; unique.
    pub email: String,
    /// Display name, 1–200 characters.
    pub name: String,
}

impl CustomerInput {
    /// A customer from fields that passed their rules: the address lower-cased, the
    /// name trimmed.
    pub fn new(email: &str, name: String) -> Self {
        Self {
            email: email.to_ascii_lowercase(),
            name: name.trim().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use service_kit::input::Rule;

    use super::*;

    #[test]
    fn addresses_are_what_the_pattern_says_and_lower_cased() {
        assert_eq!(
            CustomerInput::new("Ada@Example.COM", "Ada".into()).email,
            "ada@example.com"
        );
        for good in ["ada@example.com", "a.b+c@x-y.co.uk"] {
            assert!(EmailField::parse(&json!(good)).is_ok(), "{good}");
        }
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@example",
            "ada@.com",
            "a da@example.com",
            "ada@example.com\n",
        ] {
            assert!(EmailField::parse(&json!(bad)).is_err(), "{bad:?}");
        }
    }
}
