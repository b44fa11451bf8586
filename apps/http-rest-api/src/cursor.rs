//! Opaque pagination cursors: the id a page ended at, base64url-encoded, so
//! clients cannot depend on (or forge meaningfully) what is inside.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const PREFIX: &str = "after:";

/// The cursor that continues after product `id`.
pub fn encode(id: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{PREFIX}{id}"))
}

/// The id a cursor continues after, or why it is not one of ours.
pub fn decode(cursor: &str) -> Result<u64, String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| "is not a cursor returned by this API".to_owned())?;
    std::str::from_utf8(&bytes)
        .ok()
        .and_then(|text| text.strip_prefix(PREFIX))
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| "is not a cursor returned by this API".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        assert_eq!(decode(&encode(42)), Ok(42));
    }

    #[test]
    fn foreign_cursors_are_refused() {
        assert!(decode("!!").is_err());
        assert!(decode(&URL_SAFE_NO_PAD.encode("before:3")).is_err());
        assert!(decode(&URL_SAFE_NO_PAD.encode("after:x")).is_err());
    }
}
