//! Resource ids in paths, queries and bodies: whole numbers from 1 to 2^53 - 1.

use std::borrow::Cow;

use poem_openapi::registry::MetaSchemaRef;
use poem_openapi::types::{ParseError, ParseFromParameter, ParseResult, Type};

use super::{Int, int_schema};

/// Largest id any of our APIs hands out or accepts: 2^53 - 1, exact in every JSON
/// client (a JavaScript number) and far beyond what an identity column reaches.
pub const MAX_ID: i64 = 9_007_199_254_740_991;

/// A resource id in a path or a query (`/orders/{id}`): a whole number from 1 to
/// [`MAX_ID`]; the document says so, and anything else is a 400 naming the parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id(pub i64);

impl Id {
    /// The id.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl Type for Id {
    const IS_REQUIRED: bool = true;
    type RawValueType = i64;
    type RawElementValueType = i64;

    fn name() -> Cow<'static, str> {
        Cow::Borrowed("id")
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(int_schema(1, MAX_ID)))
    }

    fn as_raw_value(&self) -> Option<&i64> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a i64> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

impl ParseFromParameter for Id {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        value
            .parse::<i64>()
            .ok()
            .filter(|id| (1..=MAX_ID).contains(id))
            .map(Self)
            .ok_or_else(|| ParseError::custom(format!("must be a whole number from 1 to {MAX_ID}")))
    }
}

/// The rule of an id in a body.
pub type IdField = Int<1, MAX_ID>;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::check;
    use super::*;

    #[test]
    fn ids_are_positive_and_exact_in_json() {
        assert_eq!(Id::parse_from_parameter("7").unwrap(), Id(7));
        for bad in ["0", "-1", "x", "9007199254740992", "99999999999999999999"] {
            assert!(Id::parse_from_parameter(bad).is_err(), "{bad}");
        }
        assert!(check::<IdField>(json!(MAX_ID)).is_ok());
        assert!(check::<IdField>(json!(MAX_ID + 1)).is_err());
    }
}
