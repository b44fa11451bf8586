//! Rules for `dashboards/*.json`, the single source of every Grafana dashboard:
//! a stable `uid` (`obi-examples-<file name>`), schemaVersion 39–41, a `datasource`
//! variable, and every datasource reference going through a variable (`${...}`),
//! never a hard-coded UID that exists in one Grafana only.

use serde_json::Value;

use super::generated::dashboard_files;
use crate::paths;

/// Checks every dashboard file; one message per problem.
pub fn check() -> anyhow::Result<Vec<String>> {
    let root = paths::root();
    let mut problems = Vec::new();
    for name in dashboard_files(root)? {
        let text = std::fs::read_to_string(root.join("dashboards").join(&name))?;
        let stem = name.trim_end_matches(".json");
        match serde_json::from_str::<Value>(&text) {
            Ok(doc) => problems.extend(
                check_dashboard(stem, &doc)
                    .into_iter()
                    .map(|p| format!("dashboards/{name}: {p}")),
            ),
            Err(err) => problems.push(format!("dashboards/{name}: not JSON: {err}")),
        }
    }
    Ok(problems)
}

/// The problems of one dashboard named `stem`.
pub fn check_dashboard(stem: &str, doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let uid = format!("obi-examples-{stem}");
    if doc["uid"].as_str() != Some(uid.as_str()) {
        problems.push(format!(
            "uid must be {uid:?} (stable links), found {}",
            doc["uid"]
        ));
    }
    match doc["schemaVersion"].as_u64() {
        Some(39..=41) => {}
        other => problems.push(format!("schemaVersion must be 39 to 41, found {other:?}")),
    }
    let has_variable = doc["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|v| v["name"] == "datasource" && v["type"] == "datasource");
    if !has_variable {
        problems.push("needs a templating variable named `datasource` of type datasource".into());
    }
    let mut path = Vec::new();
    hard_coded_datasources(doc, &mut path, &mut problems);
    problems
}

/// Walks the document; any `datasource` that is not a `${variable}` (or Grafana's
/// built-in annotations source) is a problem, reported with its JSON path.
fn hard_coded_datasources(value: &Value, path: &mut Vec<String>, problems: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                path.push(key.clone());
                if key == "datasource" && !is_variable_reference(child) {
                    problems.push(format!(
                        "{} hard-codes a datasource ({child}); use {{\"uid\": \"${{datasource}}\"}}",
                        path.join(".")
                    ));
                } else {
                    hard_coded_datasources(child, path, problems);
                }
                path.pop();
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                path.push(index.to_string());
                hard_coded_datasources(child, path, problems);
                path.pop();
            }
        }
        _ => {}
    }
}

fn is_variable_reference(datasource: &Value) -> bool {
    let is_variable = |s: &str| s.starts_with("${") || s.starts_with('$');
    match datasource {
        Value::String(name) => is_variable(name),
        Value::Object(map) => match map.get("uid").and_then(Value::as_str) {
            Some(uid) => is_variable(uid) || uid == "-- Grafana --",
            None => map.get("type").and_then(Value::as_str) == Some("grafana"),
        },
        Value::Null => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn good() -> Value {
        json!({
            "uid": "obi-examples-app",
            "schemaVersion": 39,
            "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}]},
            "annotations": {"list": [{"datasource": {"type": "grafana", "uid": "-- Grafana --"}}]},
            "panels": [{"datasource": {"type": "prometheus", "uid": "${datasource}"},
                        "targets": [{"datasource": {"uid": "${datasource}"}, "expr": "up"}]}]
        })
    }

    #[test]
    fn a_dashboard_with_a_datasource_variable_passes() {
        assert_eq!(check_dashboard("app", &good()), Vec::<String>::new());
    }

    #[test]
    fn a_hard_coded_uid_is_reported_with_its_path() {
        let mut doc = good();
        doc["panels"][0]["targets"][0]["datasource"] = json!({"uid": "P1809F7CD0C75ACF3"});
        let problems = check_dashboard("app", &doc);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("panels.0.targets.0.datasource"),
            "{problems:?}"
        );
    }

    #[test]
    fn uid_schema_version_and_variable_are_required() {
        let mut doc = good();
        doc["uid"] = json!("random");
        doc["schemaVersion"] = json!(27);
        doc["templating"] = json!({"list": []});
        let problems = check_dashboard("app", &doc);
        assert_eq!(problems.len(), 3, "{problems:?}");
    }
}
