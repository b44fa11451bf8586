//! The wire format of the app's records, apart from the client that moves them and
//! tested without a broker: an event on the input topic (its id as key, its JSON as
//! value — or an undecodable value under `poison_rate` — and its headers), decoding
//! one back, a result on the output topic, a dead letter's headers.

use serde_json::json;

use crate::event::{Event, now_ms};

/// A partition of a topic.
pub type Partition = (String, i32);

/// A record as the worker receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Topic and partition.
    pub partition: Partition,
    /// Its offset there.
    pub offset: i64,
    /// The key (the event id), if any.
    pub key: Option<Vec<u8>>,
    /// The value, if any.
    pub payload: Option<Vec<u8>>,
}

/// What an undecodable (poisoned) value starts with.
const POISON: &[u8] = b"\0poison:";

/// The value of `event`'s record: its JSON, or when `poison`, bytes no decoder reads.
pub fn event_value(event: &Event, poison: bool) -> Vec<u8> {
    let mut value = serde_json::to_vec(event).unwrap_or_default();
    if poison {
        value.splice(0..0, POISON.iter().copied());
    }
    value
}

/// The headers of `event`'s record.
pub fn event_headers(event: &Event) -> [(&'static str, &str); 2] {
    [
        ("content-type", "application/json"),
        ("event-type", event.kind.as_str()),
    ]
}

/// The event in a record, or why it is poison.
pub fn decode(key: Option<&[u8]>, payload: Option<&[u8]>) -> Result<Event, String> {
    let payload = payload.ok_or("the record has no value")?;
    let event: Event =
        serde_json::from_slice(payload).map_err(|err| format!("undecodable event: {err}"))?;
    if let Some(key) = key
        && key != event.id.as_bytes()
    {
        return Err("the record key is not the event id".into());
    }
    Ok(event)
}

/// The value of the result the worker writes for `event`, processed after `attempts`.
pub fn result_value(event: &Event, attempts: u32) -> String {
    json!({
        "id": event.id,
        "type": event.kind,
        "source": event.source,
        "time": event.time,
        "processed_at": now_ms(),
        "fields": event.payload.len(),
        "attempts": attempts,
    })
    .to_string()
}

/// The headers of a result.
pub const RESULT_HEADERS: [(&str, &str); 1] = [("content-type", "application/json")];

/// The headers of a dead letter: why, and where the record came from.
pub fn dead_letter_headers(
    record: &Record,
    error: &str,
    attempts: u32,
) -> Vec<(&'static str, String)> {
    vec![
        ("x-error", error.to_owned()),
        ("x-origin-topic", record.partition.0.clone()),
        ("x-origin-partition", record.partition.1.to_string()),
        ("x-origin-offset", record.offset.to_string()),
        ("x-attempts", attempts.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str) -> Event {
        Event {
            id: id.into(),
            kind: "order.created".into(),
            source: "tests".into(),
            time: 1,
            payload: serde_json::Map::new(),
        }
    }

    #[test]
    fn an_event_round_trips_and_poison_does_not() {
        let event = event("a");
        let value = event_value(&event, false);
        assert_eq!(decode(Some(b"a"), Some(&value)).unwrap(), event);
        let poisoned = event_value(&event, true);
        assert!(
            decode(Some(b"a"), Some(&poisoned))
                .unwrap_err()
                .contains("undecodable")
        );
        assert_eq!(event_headers(&event)[1], ("event-type", "order.created"));
    }

    #[test]
    fn decoding_names_the_poison() {
        let good = br#"{"id":"a","type":"t","source":"s","time":1,"payload":{}}"#;
        assert_eq!(decode(Some(b"a"), Some(good)).unwrap().id, "a");
        assert!(decode(Some(b"b"), Some(good)).is_err());
        assert!(decode(None, None).is_err());
        assert!(
            decode(None, Some(b"\0junk"))
                .unwrap_err()
                .contains("undecodable")
        );
    }

    #[test]
    fn a_result_and_a_dead_letter_say_what_happened() {
        let result: serde_json::Value =
            serde_json::from_str(&result_value(&event("a"), 2)).unwrap();
        assert_eq!(result["id"], "a");
        assert_eq!(result["attempts"], 2);
        let record = Record {
            partition: ("t".into(), 3),
            offset: 7,
            key: None,
            payload: None,
        };
        let headers = dead_letter_headers(&record, "undecodable", 3);
        assert_eq!(headers[1], ("x-origin-topic", "t".to_owned()));
        assert_eq!(headers[3], ("x-origin-offset", "7".to_owned()));
    }
}
