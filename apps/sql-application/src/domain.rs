//! Validated inputs: what the store may assume about a product, customer or order
//! request, one module each — the rules of their fields (which the OpenAPI document
//! shows, see `service_kit::input`) — and the checks an order must pass against the
//! stored state before it is written. Pure: nothing here talks to PostgreSQL.

pub mod customer;
pub mod order;
pub mod product;

/// What a cursor looks like (the `after` parameter's pattern): a positive id that
/// fits in 63 bits.
pub const CURSOR_PATTERN: &str = "^[1-9][0-9]{0,17}$";

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
}
