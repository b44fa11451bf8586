//! The rules of the kit: free text, whole numbers, lists, patterns, any JSON, and
//! the schema and check functions they are made of.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Mutex, OnceLock};

use poem_openapi::registry::{MetaSchema, Registry};
use poem_openapi::types::ParseFromJSON;
use regex::Regex;
use serde_json::Value;

use super::{NO_NUL, NOT_BLANK, Rule};

/// Free text of `MIN` to `MAX` characters, not blank, without NUL ([`NOT_BLANK`]).
#[derive(Debug)]
pub struct Text<const MIN: usize, const MAX: usize>;

impl<const MIN: usize, const MAX: usize> Rule for Text<MIN, MAX> {
    type Value = String;
    const NAME: &'static str = "text";

    fn schema() -> MetaSchema {
        text_schema(MIN, MAX, NOT_BLANK)
    }

    fn parse(value: &Value) -> Result<String, String> {
        text(value, MIN, MAX, NOT_BLANK)
    }
}

/// A whole number from `MIN` to `MAX`.
#[derive(Debug)]
pub struct Int<const MIN: i64, const MAX: i64>;

impl<const MIN: i64, const MAX: i64> Rule for Int<MIN, MAX> {
    type Value = i64;
    const NAME: &'static str = "integer";

    fn schema() -> MetaSchema {
        int_schema(MIN, MAX)
    }

    fn parse(value: &Value) -> Result<i64, String> {
        int(value, MIN, MAX)
    }
}

/// Any JSON value (an event's payload): the schema says nothing more.
#[derive(Debug)]
pub struct AnyJson;

impl Rule for AnyJson {
    type Value = Value;
    const NAME: &'static str = "any";

    fn schema() -> MetaSchema {
        MetaSchema::ANY
    }

    fn parse(value: &Value) -> Result<Value, String> {
        Ok(value.clone())
    }
}

/// A list of `MIN` to `MAX` objects of type `T`, each checked by the handler field by
/// field (`T`'s fields are [`Field`]s, so an element fails only when it is no object).
#[derive(Debug)]
pub struct ListOf<T, const MIN: usize, const MAX: usize>(PhantomData<T>);

impl<T, const MIN: usize, const MAX: usize> Rule for ListOf<T, MIN, MAX>
where
    T: ParseFromJSON + Send + Sync + 'static,
{
    type Value = Vec<T>;
    const NAME: &'static str = "list";

    fn schema() -> MetaSchema {
        let mut schema = MetaSchema::new("array");
        schema.items = Some(Box::new(T::schema_ref()));
        schema.min_items = Some(MIN);
        schema.max_items = Some(MAX);
        schema
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn parse(value: &Value) -> Result<Vec<T>, String> {
        let Value::Array(elements) = value else {
            return Err(format!("must be a list, not {}", kind(value)));
        };
        if elements.len() < MIN || elements.len() > MAX {
            return Err(format!("must hold {MIN} to {MAX} elements"));
        }
        elements
            .iter()
            .enumerate()
            .map(|(index, element)| {
                T::parse_from_json(Some(element.clone())).map_err(|_| {
                    format!("element {index} must be an object, not {}", kind(element))
                })
            })
            .collect()
    }
}

/// The schema of a string of `min` to `max` characters matching `pattern`.
pub fn text_schema(min: usize, max: usize, pattern: &'static str) -> MetaSchema {
    let mut schema = MetaSchema::new("string");
    schema.min_length = Some(min);
    schema.max_length = Some(max);
    schema.pattern = Some(pattern.to_owned());
    schema
}

/// Checks `value` against [`text_schema`]`(min, max, pattern)`.
pub fn text(
    value: &Value,
    min: usize,
    max: usize,
    pattern: &'static str,
) -> Result<String, String> {
    let Value::String(text) = value else {
        return Err(format!("must be a string, not {}", kind(value)));
    };
    let length = text.chars().count();
    if length < min || length > max {
        return Err(if min == max {
            format!("must be {min} characters long")
        } else if length < min {
            format!("must be at least {min} characters long")
        } else {
            format!("must be at most {max} characters long")
        });
    }
    if text.contains('\0') {
        return Err("must not contain NUL characters".into());
    }
    if pattern == NOT_BLANK && text.trim().is_empty() {
        return Err("must not be blank".into());
    }
    if pattern != NO_NUL && pattern != NOT_BLANK && !matches(pattern, text) {
        return Err(format!("must match the pattern `{pattern}`"));
    }
    Ok(text.clone())
}

/// The schema of a whole number from `min` to `max`.
pub fn int_schema(min: i64, max: i64) -> MetaSchema {
    let mut schema = MetaSchema::new_with_format("integer", "int64");
    // The bounds of our fields are far below 2^53: exact as f64.
    schema.minimum = Some(min as f64);
    schema.maximum = Some(max as f64);
    schema
}

/// Checks `value` against [`int_schema`]`(min, max)`.
pub fn int(value: &Value, min: i64, max: i64) -> Result<i64, String> {
    let range = || format!("must be a whole number from {min} to {max}");
    match value {
        Value::Number(number) => match number.as_i64() {
            Some(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(range()),
        },
        other => Err(format!("{}, not {}", range(), kind(other))),
    }
}

/// The schema of one of `values`.
pub fn enum_schema(values: &[&str]) -> MetaSchema {
    let mut schema = MetaSchema::new("string");
    schema.enum_items = values.iter().map(|v| Value::from(*v)).collect();
    schema
}

/// What kind of JSON value `value` is, for messages (`a boolean`).
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Whether `text` matches the JSON Schema `pattern` (compiled once).
pub fn matches(pattern: &'static str, text: &str) -> bool {
    static CACHE: OnceLock<Mutex<HashMap<&'static str, Regex>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    cache
        .entry(pattern)
        .or_insert_with(|| Regex::new(pattern).unwrap_or_else(|err| panic!("{pattern}: {err}")))
        .is_match(text)
}

/// A rule for a string matching a pattern, with its length bounds: what an app's
/// identifiers (SKUs, categories, e-mail addresses) are.
pub trait Pattern: Send + Sync + 'static {
    /// The schema's name.
    const NAME: &'static str;
    /// Fewest characters.
    const MIN: usize;
    /// Most characters.
    const MAX: usize;
    /// The JSON Schema pattern (ECMA-262 and Rust `regex` alike: ASCII classes only).
    const PATTERN: &'static str;
}

/// The rule of a [`Pattern`].
#[derive(Debug)]
pub struct Matching<P>(PhantomData<P>);

impl<P: Pattern> Rule for Matching<P> {
    type Value = String;
    const NAME: &'static str = P::NAME;

    fn schema() -> MetaSchema {
        text_schema(P::MIN, P::MAX, P::PATTERN)
    }

    fn parse(value: &Value) -> Result<String, String> {
        text(value, P::MIN, P::MAX, P::PATTERN)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::{Field, check};
    use super::*;

    struct Sku;
    impl Pattern for Sku {
        const NAME: &'static str = "sku";
        const MIN: usize = 1;
        const MAX: usize = 8;
        const PATTERN: &'static str = "^[A-Z0-9-]+$";
    }

    #[test]
    fn nul_characters_are_refused_and_the_schema_says_so() {
        let problems = check::<Text<1, 10>>(json!("a\u{0}b")).unwrap_err();
        assert_eq!(problems[0].message, "must not contain NUL characters");
        assert_eq!(Text::<1, 10>::schema().pattern.as_deref(), Some(NOT_BLANK));
        assert!(matches(NO_NUL, "ab\n") && !matches(NO_NUL, "a\u{0}"));
        assert!(matches(NOT_BLANK, " a ") && !matches(NOT_BLANK, "a\u{0}"));
    }

    #[test]
    fn blank_text_is_refused_as_the_schema_says() {
        let problems = check::<Text<1, 10>>(json!(" \t")).unwrap_err();
        assert_eq!(problems[0].message, "must not be blank");
        assert!(!matches(NOT_BLANK, " \t") && !matches(NOT_BLANK, ""));
        assert_eq!(check::<Text<1, 10>>(json!(" Mug ")).unwrap(), " Mug ");
    }

    #[test]
    fn lengths_count_characters_and_bounds_are_in_the_schema() {
        assert_eq!(check::<Text<1, 3>>(json!("äöü")).unwrap(), "äöü");
        assert!(check::<Text<1, 3>>(json!("")).is_err());
        assert!(check::<Text<1, 3>>(json!("abcd")).is_err());
        let schema = Text::<1, 3>::schema();
        assert_eq!((schema.min_length, schema.max_length), (Some(1), Some(3)));
    }

    #[test]
    fn integers_are_bounded_as_the_schema_says() {
        assert_eq!(check::<Int<0, 10>>(json!(10)).unwrap(), 10);
        let problems = check::<Int<0, 10>>(json!(11)).unwrap_err();
        assert_eq!(problems[0].message, "must be a whole number from 0 to 10");
        assert!(check::<Int<0, 10>>(json!(-1)).is_err());
        let schema = Int::<0, 10>::schema();
        assert_eq!((schema.minimum, schema.maximum), (Some(0.0), Some(10.0)));
    }

    #[test]
    fn patterns_check_what_the_schema_shows() {
        assert_eq!(check::<Matching<Sku>>(json!("AB-1")).unwrap(), "AB-1");
        let problems = check::<Matching<Sku>>(json!("ab 1")).unwrap_err();
        assert_eq!(problems[0].message, "must match the pattern `^[A-Z0-9-]+$`");
        assert_eq!(
            Matching::<Sku>::schema().pattern.as_deref(),
            Some(Sku::PATTERN)
        );
    }

    #[test]
    fn a_list_checks_its_length_and_that_each_element_is_an_object() {
        #[derive(Debug, poem_openapi::Object)]
        struct Line {
            quantity: Field<Int<1, 9>>,
        }
        let lines =
            check::<ListOf<Line, 1, 2>>(json!([{"quantity": 3}, {"quantity": "x"}])).unwrap();
        let mut problems = Vec::new();
        let quantities: Vec<_> = lines
            .into_iter()
            .enumerate()
            .map(|(i, line)| {
                line.quantity
                    .check(&format!("items[{i}].quantity"), &mut problems)
            })
            .collect();
        assert_eq!(quantities, [Some(3), None]);
        assert_eq!(problems[0].field, "items[1].quantity");
        assert!(check::<ListOf<Line, 1, 2>>(json!([])).is_err());
        assert!(check::<ListOf<Line, 1, 2>>(json!([1])).is_err());
        assert!(check::<ListOf<Line, 1, 2>>(json!({})).is_err());
    }
}
