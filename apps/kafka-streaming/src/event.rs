//! Events: what the API accepts, how it is validated (every problem named by its
//! field), and the record the worker decodes from the input topic.

use serde::{Deserialize, Serialize};

use service_kit::problem::FieldProblem;

/// Most events one request may publish: `events.max_batch` may lower it, never raise it.
pub const MAX_BATCH: usize = 1000;

/// An event as a client sends it (every field optional, so that a missing one gets a
/// 422 naming it instead of a parse error).
#[derive(Debug, Clone, Default, poem_openapi::Object)]
pub struct EventRequest {
    /// Client-chosen id, 1–64 of `A-Z a-z 0-9 . _ : -`; generated when absent. The
    /// worker processes each id once, so a retried POST is harmless.
    pub id: Option<String>,
    /// Event type, 1–64 of `a-z 0-9 . _ -`, starting with a letter (e.g. `order.created`).
    #[oai(rename = "type")]
    pub kind: Option<String>,
    /// Who emitted it, 1–128 characters.
    pub source: Option<String>,
    /// The event's data: a JSON object within `events.max_payload_bytes`.
    pub payload: Option<serde_json::Value>,
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

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')
}

fn is_type(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_lowercase())
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

impl EventRequest {
    /// Validates the request; field paths are prefixed with `prefix` (`events[3].`).
    pub fn validate(
        self,
        prefix: &str,
        max_payload_bytes: usize,
        problems: &mut Vec<FieldProblem>,
    ) -> Option<Event> {
        let before = problems.len();
        let mut problem = |field: &str, message: &str| {
            problems.push(FieldProblem {
                field: format!("{prefix}{field}"),
                message: message.to_owned(),
            });
        };
        let id = match self.id {
            None => new_id(),
            Some(id) if !id.is_empty() && id.len() <= 64 && id.chars().all(is_id_char) => id,
            Some(_) => {
                problem("id", "must be 1 to 64 of A-Z a-z 0-9 . _ : -");
                String::new()
            }
        };
        let kind = match self.kind {
            None => {
                problem("type", "is required");
                String::new()
            }
            Some(kind) if !kind.is_empty() && kind.len() <= 64 && is_type(&kind) => kind,
            Some(_) => {
                problem(
                    "type",
                    "must be 1 to 64 of a-z 0-9 . _ - starting with a letter",
                );
                String::new()
            }
        };
        let source = match self.source {
            None => {
                problem("source", "is required");
                String::new()
            }
            Some(source) if !source.trim().is_empty() && source.chars().count() <= 128 => source,
            Some(_) => {
                problem("source", "must be 1 to 128 characters, not blank");
                String::new()
            }
        };
        let payload = match self.payload {
            None => {
                problem("payload", "is required");
                serde_json::Map::new()
            }
            Some(serde_json::Value::Object(map)) => {
                let size = serde_json::to_vec(&map).map_or(usize::MAX, |bytes| bytes.len());
                if size > max_payload_bytes {
                    problem(
                        "payload",
                        &format!("is {size} bytes serialized; at most {max_payload_bytes}"),
                    );
                }
                map
            }
            Some(_) => {
                problem("payload", "must be a JSON object");
                serde_json::Map::new()
            }
        };
        (problems.len() == before).then(|| Event {
            id,
            kind,
            source,
            time: now_ms(),
            payload,
        })
    }
}

/// The JSON type of `value`, as a message names it.
fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn event_type_problems(prefix: &str, event: &serde_json::Value, problems: &mut Vec<FieldProblem>) {
    let Some(fields) = event.as_object() else {
        problems.push(FieldProblem {
            field: prefix.trim_end_matches('.').to_owned(),
            message: format!("must be an event object, not {}", json_kind(event)),
        });
        return;
    };
    for name in ["id", "type", "source"] {
        match fields.get(name) {
            None | Some(serde_json::Value::Null | serde_json::Value::String(_)) => {}
            Some(other) => problems.push(FieldProblem {
                field: format!("{prefix}{name}"),
                message: format!("must be a string, not {}", json_kind(other)),
            }),
        }
    }
}

/// The fields of the wrong JSON type in an events request body (`batch`: a
/// `{"events": [...]}` body), each named by its path with the type it must have.
/// Empty when the body is no JSON at all or its top level is not an object: poem's
/// own message says that well enough.
pub fn type_problems(body: &[u8], batch: bool) -> Vec<FieldProblem> {
    let Ok(serde_json::Value::Object(root)) = serde_json::from_slice(body) else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    if !batch {
        event_type_problems("", &serde_json::Value::Object(root), &mut problems);
        return problems;
    }
    match root.get("events") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Array(events)) => {
            for (i, event) in events.iter().enumerate() {
                event_type_problems(&format!("events[{i}]."), event, &mut problems);
            }
        }
        Some(other) => problems.push(FieldProblem {
            field: "events".into(),
            message: format!("must be an array of events, not {}", json_kind(other)),
        }),
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(value: serde_json::Value) -> EventRequest {
        EventRequest {
            id: value["id"].as_str().map(str::to_owned),
            kind: value["type"].as_str().map(str::to_owned),
            source: value["source"].as_str().map(str::to_owned),
            payload: value.get("payload").cloned(),
        }
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
    fn wrong_json_types_are_named_with_the_type_expected() {
        let single = br#"{"id": 7, "type": {"a": 1}, "source": "s", "payload": {}}"#;
        let problems = type_problems(single, false);
        let named: Vec<_> = problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect();
        assert_eq!(
            named,
            [
                "id: must be a string, not a number",
                "type: must be a string, not an object"
            ]
        );
        let batch = br#"{"events": [{"type": "a"}, 5, {"source": ["x"], "id": null}]}"#;
        let named: Vec<_> = type_problems(batch, true)
            .into_iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect();
        assert_eq!(
            named,
            [
                "events[1]: must be an event object, not a number",
                "events[2].source: must be a string, not an array"
            ]
        );
        let problems = type_problems(br#"{"events": "x"}"#, true);
        assert_eq!(problems[0].field, "events");
        assert!(problems[0].message.contains("not a string"));
        assert!(type_problems(b"{not json", false).is_empty());
        assert!(type_problems(b"[1]", false).is_empty());
        assert!(type_problems(br#"{"events": [true, false]}"#, true).len() == 2);
        assert!(type_problems(br#"{"events": null}"#, true).is_empty());
        assert_eq!(json_kind(&serde_json::Value::Null), "null");
    }
}
