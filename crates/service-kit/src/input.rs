//! Request fields whose OpenAPI schema and whose check are one definition, so that a
//! generated client, a schema validator and the server agree on what is valid.
//!
//! A [`Rule`] says both what the document shows (type, `minLength`, `maxLength`,
//! `pattern`, `minimum`, `maximum`, `enum`) and how a JSON value is checked against
//! it; [`Field`] is a body field under a rule. A field never fails the body's parse:
//! it keeps its error, and the handler collects every field's error with the field's
//! name ([`Field::check`]), so that one 422 names them all in the API's own words.
//! A value of the wrong JSON type is such an error: `"sku": false` is not the string
//! `"false"` (poem-openapi's own `String` would coerce it).
//!
//! ```ignore
//! #[derive(Object)]
//! struct ProductRequest { sku: Field<Sku>, price_cents: Field<Int<0, 100_000_000>> }
//!
//! let mut problems = Vec::new();
//! let sku = body.sku.check("sku", &mut problems);
//! let price = body.price_cents.check("price_cents", &mut problems);
//! let (Some(sku), Some(price)) = (sku, price) else { return Err(Invalid(problems)) };
//! ```

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;

use crate::problem::FieldProblem;

mod id;
mod rules;

pub use id::{Id, IdField, MAX_ID};
pub use rules::{
    AnyJson, Int, ListOf, Matching, Pattern, Text, enum_schema, int, int_schema, kind, matches,
    text, text_schema,
};

/// The pattern every free text carries: no NUL character, which PostgreSQL (and most
/// C-string backends) cannot store.
pub const NO_NUL: &str = "^[^\\x00]*$";

/// The pattern of free text a person reads (a name, a source): no NUL character and
/// at least one that is not white space. Apps store it trimmed.
pub const NOT_BLANK: &str = "^[^\\x00]*[^\\x00\\s][^\\x00]*$";

/// What a valid value of one kind is: its schema and its check, from one definition.
pub trait Rule: Send + Sync + 'static {
    /// What the check yields.
    type Value: Send + Sync;
    /// The schema's name in error messages (`"text"`, `"sku"`).
    const NAME: &'static str;
    /// The schema of a valid value, as the document shows it.
    fn schema() -> MetaSchema;
    /// Registers the named schemas [`Rule::schema`] refers to (a list's items).
    fn register(_registry: &mut Registry) {}
    /// The value, or what is wrong with it in the API's words (`"must be ..."`).
    fn parse(value: &Value) -> Result<Self::Value, String>;
}

/// A required body field under the rule `R`. Its parse never fails; [`Field::check`]
/// reports what was wrong, naming the field.
pub struct Field<R: Rule> {
    raw: Option<Value>,
    parsed: Result<R::Value, String>,
}

/// An optional body field under the rule `R`: absent and `null` are `None`.
pub struct Optional<R: Rule> {
    raw: Option<Value>,
    parsed: Result<Option<R::Value>, String>,
}

impl<R: Rule> Field<R> {
    /// The field's value, or `None` after adding its problem (named `name`) to
    /// `problems`.
    pub fn check(self, name: &str, problems: &mut Vec<FieldProblem>) -> Option<R::Value> {
        self.parsed
            .map_err(|message| problems.push(FieldProblem::new(name, message)))
            .ok()
    }

    /// A field holding `value` as a client would send it (tests, fixtures).
    pub fn from_json(value: Value) -> Self {
        <Self as ParseFromJSON>::parse_from_json(Some(value)).unwrap_or_else(|_| unreachable!())
    }
}

impl<R: Rule> Optional<R> {
    /// The field's value (`None` when absent or `null`), or `None` after adding its
    /// problem (named `name`) to `problems`.
    pub fn check(self, name: &str, problems: &mut Vec<FieldProblem>) -> Option<R::Value> {
        self.parsed
            .map_err(|message| problems.push(FieldProblem::new(name, message)))
            .ok()
            .flatten()
    }

    /// Whether the field was absent or `null`.
    pub fn is_absent(&self) -> bool {
        matches!(self.parsed, Ok(None))
    }
}

impl<R: Rule> std::fmt::Debug for Field<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Field").field(&self.raw).finish()
    }
}

impl<R: Rule> std::fmt::Debug for Optional<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Optional").field(&self.raw).finish()
    }
}

macro_rules! field_type {
    ($ty:ident, $required:expr, $nullable:expr) => {
        impl<R: Rule> Type for $ty<R> {
            const IS_REQUIRED: bool = $required;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> Cow<'static, str> {
                Cow::Borrowed(R::NAME)
            }

            fn schema_ref() -> MetaSchemaRef {
                let mut schema = R::schema();
                schema.nullable = $nullable;
                MetaSchemaRef::Inline(Box::new(schema))
            }

            fn register(registry: &mut Registry) {
                R::register(registry);
            }

            fn as_raw_value(&self) -> Option<&Self::RawValueType> {
                Some(self)
            }

            fn raw_element_iter<'a>(
                &'a self,
            ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
                Box::new(std::iter::once(self))
            }

            fn is_none(&self) -> bool {
                self.raw.is_none()
            }
        }

        impl<R: Rule> ToJSON for $ty<R> {
            fn to_json(&self) -> Option<Value> {
                self.raw.clone()
            }
        }
    };
}

field_type!(Field, true, false);
field_type!(Optional, false, true);

impl<R: Rule> ParseFromJSON for Field<R> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        let parsed = match &value {
            None => Err("is required".to_owned()),
            Some(value) => R::parse(value),
        };
        Ok(Self { raw: value, parsed })
    }
}

impl<R: Rule> ParseFromJSON for Optional<R> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        let parsed = match &value {
            None | Some(Value::Null) => Ok(None),
            Some(value) => R::parse(value).map(Some),
        };
        Ok(Self { raw: value, parsed })
    }
}

/// A JSON value checked as the field `f` under `R` (the tests of this module's parts).
#[cfg(test)]
fn check<R: Rule>(value: Value) -> Result<R::Value, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    Field::<R>::from_json(value)
        .check("f", &mut problems)
        .ok_or(problems)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_value_of_the_wrong_json_type_is_named_not_coerced() {
        let problems = check::<Text<1, 10>>(json!(false)).unwrap_err();
        assert_eq!(problems[0].field, "f");
        assert_eq!(problems[0].message, "must be a string, not a boolean");
        assert!(check::<Int<0, 10>>(json!("3")).is_err());
        assert!(check::<Int<0, 10>>(json!(2.5)).is_err());
    }

    #[test]
    fn a_missing_field_is_required_and_an_optional_one_is_not() {
        let mut problems = Vec::new();
        let missing = <Field<Text<1, 3>> as ParseFromJSON>::parse_from_json(None).unwrap();
        assert!(missing.check("name", &mut problems).is_none());
        assert_eq!(problems[0].to_string(), "`name`: is required");
        let absent = <Optional<Text<1, 3>> as ParseFromJSON>::parse_from_json(None).unwrap();
        assert!(absent.is_absent());
        let null =
            <Optional<Text<1, 3>> as ParseFromJSON>::parse_from_json(Some(Value::Null)).unwrap();
        assert!(null.check("d", &mut problems).is_none() && problems.len() == 1);
        assert!(matches!(
            <Optional<Text<1, 3>> as Type>::schema_ref(),
            MetaSchemaRef::Inline(schema) if schema.nullable
        ));
    }
}
