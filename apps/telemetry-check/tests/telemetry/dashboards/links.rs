//! Grafana's trace links read back: the Explore URL of a panel's data link, its
//! percent-decoded state, the TraceQL queries in it, and the template filled the
//! way Grafana fills it for one series.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

use crate::fixture::NAMESPACE;

/// The Explore link of a panel's data links, if any.
pub(super) fn trace_link(panel: &Value) -> Option<&str> {
    panel["fieldConfig"]["defaults"]["links"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["url"].as_str())
        .find(|url| url.starts_with("/explore"))
}

/// The `panes` (or older `left`) JSON of an Explore URL, percent-decoded as a
/// browser's query string is (the links encode it: TraceQL's `&&` would otherwise
/// end the parameter).
pub(super) fn explore_state(url: &str) -> Result<Value, String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let raw = query
        .split('&')
        .find_map(|pair| {
            pair.strip_prefix("panes=")
                .or_else(|| pair.strip_prefix("left="))
        })
        .ok_or("the Explore URL has no panes= (or left=) state")?;
    let decoded = percent_decode(raw)?;
    serde_json::from_str(&decoded).map_err(|err| format!("its Explore state is not JSON: {err}"))
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("a bad percent escape at {i} of {text}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|err| err.to_string())
}

/// The datasource and TraceQL of every query in an Explore state.
pub(super) fn explore_queries(state: &Value) -> Vec<(String, String, String)> {
    let panes: Vec<&Value> = match state.get("queries") {
        Some(_) => vec![state],
        None => state
            .as_object()
            .into_iter()
            .flatten()
            .map(|(_, p)| p)
            .collect(),
    };
    let mut out = Vec::new();
    for pane in panes {
        for q in pane["queries"].as_array().into_iter().flatten() {
            let datasource = pane["datasource"]
                .as_str()
                .or_else(|| q["datasource"]["uid"].as_str())
                .unwrap_or_default()
                .to_owned();
            out.push((
                datasource,
                q["queryType"].as_str().unwrap_or_default().to_owned(),
                q["query"].as_str().unwrap_or_default().to_owned(),
            ));
        }
    }
    out
}

/// A link template filled as Grafana fills it for one series of its panel.
pub(super) fn fill(template: &str, labels: &BTreeMap<String, String>) -> Result<String, String> {
    let var = Regex::new(r"\$\{([A-Za-z_.]+)(?::[a-z]+)?\}").unwrap();
    let mut missing = None;
    let filled = var.replace_all(template, |c: &regex::Captures<'_>| {
        let name = &c[1];
        if let Some(label) = name.strip_prefix("__field.labels.") {
            labels.get(label).cloned().unwrap_or_else(|| {
                missing.get_or_insert_with(|| format!("the series has no label {label:?}"));
                String::new()
            })
        } else {
            match name {
                "traces" => "tempo".to_owned(),
                "__from" => "now-15m".to_owned(),
                "__to" => "now".to_owned(),
                "namespace" => NAMESPACE.to_owned(),
                other => {
                    missing.get_or_insert_with(|| format!("unknown variable ${{{other}}}"));
                    String::new()
                }
            }
        }
    });
    match missing {
        Some(problem) => Err(problem),
        None => Ok(filled.into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_template_is_filled_from_the_series_or_names_what_is_missing() {
        let labels =
            BTreeMap::from([("http_route".to_owned(), "/api/v1/products/{id}".to_owned())]);
        assert_eq!(
            fill(
                "{\"datasource\":\"${traces}\",\"q\":\"${__field.labels.http_route}\"}",
                &labels
            )
            .unwrap(),
            "{\"datasource\":\"tempo\",\"q\":\"/api/v1/products/{id}\"}"
        );
        assert!(
            fill("${__field.labels.rpc_method}", &labels)
                .unwrap_err()
                .contains("rpc_method")
        );
        assert!(
            fill("${mystery}", &labels)
                .unwrap_err()
                .contains("unknown variable")
        );
    }
}
