//! `${faults.<key>}` in a spec: the chart's configured fault settings
//! (`TELEMETRY_CHECK_FAULT_SETTINGS`, the JSON of the chart's `faults` values), so
//! that a fault's spec follows what was configured instead of hard-coding the
//! defaults: `http_response_status_code="${faults.errors.status}"`.
//!
//! Two conversions, written after a colon: `:seconds` turns a duration (`200ms`)
//! into seconds (`0.2`) for PromQL arithmetic, `:grpc_code` turns an HTTP status
//! into the gRPC code name a gRPC app answers with (`503` → `UNAVAILABLE`).
//! `${namespace}` is not a fault placeholder; it is filled at query time.

use regex::Regex;
use serde_json::Value;

/// The prefix of every fault placeholder.
const PREFIX: &str = "${faults.";

fn pattern() -> Regex {
    Regex::new(r"\$\{faults\.([A-Za-z0-9_.]+)(?::([a-z_]+))?\}").expect("a valid regex")
}

/// Every fault placeholder of `text`, as written (`${faults.errors.status}`).
pub fn find(text: &str) -> Vec<String> {
    let mut found: Vec<String> = pattern()
        .find_iter(text)
        .map(|m| m.as_str().to_owned())
        .collect();
    found.dedup();
    found
}

/// Whether `text` still holds something that looks like a fault placeholder.
pub fn has_any(text: &str) -> bool {
    text.contains(PREFIX)
}

/// `text` with every `${faults.…}` replaced from `settings` (the `faults` object);
/// the first placeholder that names no setting, or a conversion that does not
/// apply, is an error naming it.
pub fn resolve(text: &str, settings: &Value) -> Result<String, String> {
    let mut error = None;
    let resolved = pattern().replace_all(text, |caps: &regex::Captures<'_>| {
        match value(settings, &caps[1], caps.get(2).map(|m| m.as_str())) {
            Ok(value) => value,
            Err(message) => {
                error.get_or_insert_with(|| format!("{}: {message}", &caps[0]));
                caps[0].to_owned()
            }
        }
    });
    match error {
        Some(message) => Err(message),
        None => Ok(resolved.into_owned()),
    }
}

fn value(settings: &Value, path: &str, conversion: Option<&str>) -> Result<String, String> {
    let mut node = settings;
    for key in path.split('.') {
        node = node
            .get(key)
            .ok_or_else(|| format!("the fault settings have no `faults.{path}`"))?;
    }
    let text = match node {
        Value::String(text) => text.clone(),
        Value::Number(number) => number_text(number),
        Value::Bool(flag) => flag.to_string(),
        _ => return Err(format!("`faults.{path}` is not a single value")),
    };
    match conversion {
        None => Ok(text),
        Some("seconds") => {
            let duration = humantime::parse_duration(text.trim())
                .map_err(|err| format!("{text:?} is not a duration: {err}"))?;
            Ok(format!("{}", duration.as_secs_f64()))
        }
        Some("grpc_code") => {
            let status: u16 = text
                .trim()
                .parse()
                .map_err(|_| format!("{text:?} is not an HTTP status"))?;
            Ok(grpc_code(status).to_owned())
        }
        Some(other) => Err(format!(
            "unknown conversion `:{other}` (known: seconds, grpc_code)"
        )),
    }
}

/// `500` rather than `500.0` (Helm's JSON writes whole numbers either way).
fn number_text(number: &serde_json::Number) -> String {
    match number.as_f64() {
        Some(float) if float.fract() == 0.0 && float.abs() < 1e15 => format!("{float:.0}"),
        _ => number.to_string(),
    }
}

/// The gRPC code name a gRPC app of this repository answers for an HTTP status of
/// the fault model: gRPC's HTTP-to-gRPC mapping, extended to the codes clients
/// test with. grpc-microservice's `grpc_code` is the other half; a test compares
/// the two tables.
pub fn grpc_code(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        412 => "FAILED_PRECONDITION",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        502..=503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ if (400..500).contains(&status) => "INVALID_ARGUMENT",
        _ => "INTERNAL",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn settings() -> Value {
        json!({
            "latency": {"enabled": true, "delay": "200ms", "rate": 1.0},
            "errors": {"enabled": false, "rate": 0.1, "status": 503},
        })
    }

    #[test]
    fn values_conversions_and_whole_numbers_are_filled_in() {
        let text = r#"code="${faults.errors.status}" / ${faults.latency.delay:seconds} rate ${faults.errors.rate} ${faults.errors.status:grpc_code} ${namespace}"#;
        assert_eq!(
            resolve(text, &settings()).unwrap(),
            r#"code="503" / 0.2 rate 0.1 UNAVAILABLE ${namespace}"#
        );
    }

    #[test]
    fn a_missing_setting_or_conversion_is_named() {
        let err = resolve("${faults.errors.code}", &settings()).unwrap_err();
        assert!(err.contains("${faults.errors.code}"), "{err}");
        assert!(err.contains("faults.errors.code"), "{err}");
        let err = resolve("${faults.errors.status:hex}", &settings()).unwrap_err();
        assert!(err.contains("unknown conversion"), "{err}");
        let err = resolve("${faults.errors:seconds}", &settings()).unwrap_err();
        assert!(err.contains("not a single value"), "{err}");
    }

    #[test]
    fn placeholders_are_found_as_written() {
        assert_eq!(
            find("a ${faults.errors.status} b ${faults.latency.delay:seconds} ${namespace}"),
            ["${faults.errors.status}", "${faults.latency.delay:seconds}"]
        );
        assert!(has_any("x ${faults.errors.status}"));
        assert!(!has_any("x ${namespace}"));
    }

    #[test]
    fn http_statuses_map_to_grpc_code_names() {
        assert_eq!(grpc_code(503), "UNAVAILABLE");
        assert_eq!(grpc_code(500), "INTERNAL");
        assert_eq!(grpc_code(504), "DEADLINE_EXCEEDED");
        assert_eq!(grpc_code(418), "INVALID_ARGUMENT");
        assert_eq!(grpc_code(599), "INTERNAL");
    }
}
