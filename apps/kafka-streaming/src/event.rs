//! Events: what the API accepts, how it is validated (every problem named by its
//! field), and the record the worker decodes from the input topic.

use poem_openapi::registry::MetaSchema;
use serde::{Deserialize, Serialize};
use service_kit::input::{Field, Matching, Optional, Pattern, Rule, Text, kind};
use service_kit::problem::FieldProblem;

/// Most events one request may publish: `events.max_batch` may lower it, never raise it.
pub const MAX_BATCH: usize = 1000;

/// An event id as a client may choose it.
#[derive(Debug)]
pub struct EventId;

impl Pattern for EventId {
    const NAME: &'static str = "event-id";
    const MIN: usize = 1;
    const MAX: usize = 64;
    const PATTERN: &'static str = "^[A-Za-z0-9._:-]+$";
}

/// An event type: lower-case, starting with a letter (`order.created`).
#[derive(Debug)]
pub struct EventType;

impl Pattern for EventType {
    const NAME: &'static str = "event-type";
    const MIN: usize = 1;
    const MAX: usize = 64;
    const PATTERN: &'static str = "^[a-z][a-z0-9._-]*$";
}

/// An event's data: a JSON object (its size is checked against
/// `events.max_payload_bytes` by [`EventRequest::validate`]).
#[derive(Debug)]
pub struct Payload;

impl Rule for Payload {
    type Value = serde_json::Map<String, serde_json::Value>;
    const NAME: &'static str = "payload";

    fn schema() -> MetaSchema {
        MetaSchema::new("object")
    }

    fn parse(value: &serde_json::Value) -> Result<Self::Value, String> {
        match value {
            serde_json::Value::Object(map) => Ok(map.clone()),
            other => Err(format!("must be a JSON object, not {}", kind(other))),
        }
    }
}

/// An event as a client sends it. Each field's rule is in the document and is its
/// check: a missing or bad field (a number where a string belongs included) is a 422
/// naming it, never coerced.
#[derive(Debug, poem_openapi::Object)]
pub struct EventRequest {
    /// Client-chosen id; generated when absent or `null`. The worker processes each id
    /// once, so a retried POST is harmless.
    pub id: Optional<Matching<EventId>>,
    /// Event type, starting with a letter (e.g. `order.created`).
    #[oai(rename = "type")]
    pub kind: Field<Matching<EventType>>,
    /// Who emitted it: 1–128 characters, not blank.
    pub source: Field<Text<1, 128>>,
    /// The event's data: a JSON object within `events.max_payload_bytes` serialized.
    pub payload: Field<Payload>,
}

/// A validated event: the value written to the input topic (key: its id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unique id.
    pub id: String,
    /// Event type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Emitter.
    pub source: String,
    /// Milliseconds since the epoch when the API accepted it.
    pub time: u64,
    /// The data.
    pub payload: serde_json::Map<String, serde_json::Value>,
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

/// A fresh id: 32 hex digits.
pub fn new_id() -> String {
    format!("{:032x}", fastrand::u128(..))
}

impl EventRequest {
    /// Validates the request; field paths are prefixed with `prefix` (`events[3].`).
    pub fn validate(
        self,
        prefix: &str,
        max_payload_bytes: usize,
        problems: &mut Vec<FieldProblem>,
    ) -> Option<Event> {
        let mut found = Vec::new();
        let id = if self.id.is_absent() {
            Some(new_id())
        } else {
            self.id.check("id", &mut found)
        };
        let kind = self.kind.check("type", &mut found);
        let source = self.source.check("source", &mut found);
        let payload = self.payload.check("payload", &mut found);
        if let Some(payload) = &payload {
            let size = serde_json::to_vec(payload).map_or(usize::MAX, |bytes| bytes.len());
            if size > max_payload_bytes {
                found.push(FieldProblem::new(
                    "payload",
                    format!("is {size} bytes serialized; at most {max_payload_bytes}"),
                ));
            }
        }
        let valid = found.is_empty();
        problems.extend(found.into_iter().map(|problem| FieldProblem {
            field: format!("{prefix}{}", problem.field),
            message: problem.message,
        }));
        match (id, kind, source, payload) {
            (Some(id), Some(kind), Some(source), Some(payload)) if valid => Some(Event {
                id,
                kind,
                source,
                time: now_ms(),
                payload,
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(value: serde_json::Value) -> EventRequest {
        <EventRequest as poem_openapi::types::ParseFromJSON>::parse_from_json(Some(value)).unwrap()
    }

    #[test]
    fn a_valid_event_gets_an_id() {
        let mut problems = Vec::new();
        let event =
            request(json!({"type": "order.created", "source": "shop", "payload": {"a": 1}}))
                .validate("", 1000, &mut problems)
                .unwrap();
        assert_eq!(event.id.len(), 32);
        assert!(problems.is_empty());
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut problems = Vec::new();
        let event =
            request(json!({"id": "bad id!", "type": "Order", "source": " ", "payload": [1]}))
                .validate("events[1].", 1000, &mut problems);
        assert!(event.is_none());
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "events[1].id",
                "events[1].type",
                "events[1].source",
                "events[1].payload"
            ]
        );
        let mut problems = Vec::new();
        assert!(
            request(json!({"type": "a", "source": "s", "payload": {"k": "x".repeat(100)}}))
                .validate("", 50, &mut problems)
                .is_none()
        );
        assert_eq!(problems[0].field, "payload");
        let mut problems = Vec::new();
        assert!(request(json!({})).validate("", 50, &mut problems).is_none());
        assert_eq!(problems.len(), 3);
    }

    #[test]
    fn wrong_json_types_are_named_not_coerced() {
        let mut problems = Vec::new();
        let event = request(json!({"id": 7, "type": "a", "source": 5, "payload": "x"})).validate(
            "",
            1000,
            &mut problems,
        );
        assert!(event.is_none());
        let named: Vec<_> = problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect();
        assert_eq!(
            named,
            [
                "id: must be a string, not a number",
                "source: must be a string, not a number",
                "payload: must be a JSON object, not a string"
            ]
        );
        let mut problems = Vec::new();
        let event = request(json!({"id": null, "type": "a", "source": "s", "payload": {}}))
            .validate("", 1000, &mut problems)
            .unwrap();
        assert_eq!(
            event.id.len(),
            32,
            "a null id is generated like an absent one"
        );
    }
}
