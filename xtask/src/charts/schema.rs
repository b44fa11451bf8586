//! App-chart schemas: the shared schema of the library chart
//! (`charts/obi-examples-lib/schema/app-chart.schema.json`) deep-merged with each
//! app chart's `values.schema.overlay.json`, giving its `values.schema.json`.

use serde_json::Value;

/// Path of the shared schema, relative to the repository root.
pub const COMMON: &str = "charts/obi-examples-lib/schema/app-chart.schema.json";
/// Name of an app chart's overlay file.
pub const OVERLAY: &str = "values.schema.overlay.json";

/// Merges `overlay` into `base`: objects merge key by key, anything else in the
/// overlay replaces the base. The overlay's top-level `description` (which
/// describes the overlay file itself) is not copied.
pub fn merge(base: &Value, overlay: &Value) -> Value {
    let mut merged = base.clone();
    if let Value::Object(top) = overlay {
        for (key, value) in top {
            if key != "description" {
                merge_into(&mut merged[key.as_str()], value);
            }
        }
    }
    merged
}

fn merge_into(target: &mut Value, overlay: &Value) {
    match (target, overlay) {
        (Value::Object(target), Value::Object(overlay)) => {
            for (key, value) in overlay {
                merge_into(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
        (target, overlay) => *target = overlay.clone(),
    }
}

/// Pretty JSON with a final newline, as committed.
pub fn to_text(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).expect("JSON values serialize");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_overlay_adds_app_properties_without_losing_shared_ones() {
        let base = json!({
            "type": "object",
            "description": "shared",
            "properties": {
                "config": {"type": "object", "additionalProperties": false, "properties": {}},
                "faults": {"properties": {"latency": {"type": "object"}}}
            }
        });
        let overlay = json!({
            "description": "about the overlay file",
            "properties": {
                "config": {"properties": {"pageSize": {"type": "integer"}}},
                "faults": {"properties": {"n_plus_one": {"type": "object"}}}
            }
        });
        let merged = merge(&base, &overlay);
        assert_eq!(merged["description"], "shared");
        assert_eq!(
            merged["properties"]["config"]["additionalProperties"],
            false
        );
        assert_eq!(
            merged["properties"]["config"]["properties"]["pageSize"]["type"],
            "integer"
        );
        assert!(merged["properties"]["faults"]["properties"]["latency"].is_object());
        assert!(merged["properties"]["faults"]["properties"]["n_plus_one"].is_object());
    }

    #[test]
    fn an_overlay_value_replaces_a_scalar() {
        let merged = merge(&json!({"a": {"b": 1}}), &json!({"a": {"b": 2}}));
        assert_eq!(merged, json!({"a": {"b": 2}}));
    }
}
