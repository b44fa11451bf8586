//! Reads OTLP traces in their JSON encoding (what Jaeger's v3 API and Tempo's
//! trace-by-id API return) into flat [`Span`]s. Lenient where the two differ: enum
//! kinds as numbers or names, `resourceSpans` or Tempo's older `batches`,
//! `scopeSpans` or `instrumentationLibrarySpans`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::spans::Span;
use crate::spec::SpanKind;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TracesData {
    #[serde(default, alias = "batches")]
    resource_spans: Vec<ResourceSpans>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceSpans {
    #[serde(default)]
    resource: Option<Resource>,
    #[serde(default, alias = "instrumentationLibrarySpans")]
    scope_spans: Vec<ScopeSpans>,
}

#[derive(Debug, Deserialize)]
struct Resource {
    #[serde(default)]
    attributes: Vec<KeyValue>,
}

#[derive(Debug, Deserialize)]
struct ScopeSpans {
    #[serde(default)]
    spans: Vec<RawSpan>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSpan {
    #[serde(default)]
    trace_id: String,
    #[serde(default)]
    span_id: String,
    #[serde(default)]
    parent_span_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: Value,
    #[serde(default)]
    attributes: Vec<KeyValue>,
}

#[derive(Debug, Deserialize)]
struct KeyValue {
    key: String,
    #[serde(default)]
    value: Value,
}

impl TracesData {
    /// Flattens every span, taking its service from `service.name`.
    pub fn into_spans(self) -> Vec<Span> {
        let mut spans = Vec::new();
        for resource_spans in self.resource_spans {
            let service = resource_spans
                .resource
                .iter()
                .flat_map(|resource| &resource.attributes)
                .find(|kv| kv.key == "service.name")
                .and_then(|kv| any_value(&kv.value))
                .unwrap_or_default();
            for raw in resource_spans.scope_spans.into_iter().flat_map(|s| s.spans) {
                spans.push(Span {
                    trace_id: raw.trace_id,
                    span_id: raw.span_id,
                    parent_span_id: raw.parent_span_id,
                    service: service.clone(),
                    name: raw.name,
                    kind: kind(&raw.kind),
                    attributes: attributes(&raw.attributes),
                });
            }
        }
        spans
    }
}

fn attributes(list: &[KeyValue]) -> BTreeMap<String, String> {
    list.iter()
        .filter_map(|kv| any_value(&kv.value).map(|value| (kv.key.clone(), value)))
        .collect()
}

/// An OTLP `AnyValue` as text (`intValue` comes as a JSON string or number).
fn any_value(value: &Value) -> Option<String> {
    let object = value.as_object()?;
    let (kind, inner) = object.iter().next()?;
    match (kind.as_str(), inner) {
        (_, Value::String(text)) => Some(text.clone()),
        ("intValue", Value::Number(n)) => Some(n.to_string()),
        ("doubleValue", Value::Number(n)) => Some(n.to_string()),
        ("boolValue", Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    }
}

fn kind(value: &Value) -> Option<SpanKind> {
    let number = match value {
        Value::Number(n) => n.as_u64()?,
        Value::String(text) => match text.trim_start_matches("SPAN_KIND_") {
            "INTERNAL" => 1,
            "SERVER" => 2,
            "CLIENT" => 3,
            "PRODUCER" => 4,
            "CONSUMER" => 5,
            _ => return None,
        },
        _ => return None,
    };
    match number {
        1 => Some(SpanKind::Internal),
        2 => Some(SpanKind::Server),
        3 => Some(SpanKind::Client),
        4 => Some(SpanKind::Producer),
        5 => Some(SpanKind::Consumer),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaeger_and_tempo_shapes_both_parse() {
        let jaeger = r#"{"resourceSpans":[{"resource":{"attributes":[
            {"key":"service.name","value":{"stringValue":"http-rest-api"}}]},
            "scopeSpans":[{"spans":[{"traceId":"ab","spanId":"01","name":"GET /x","kind":2,
            "attributes":[{"key":"http.response.status_code","value":{"intValue":"200"}}]}]}]}]}"#;
        let spans = serde_json::from_str::<TracesData>(jaeger)
            .unwrap()
            .into_spans();
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].service, "http-rest-api");
        assert_eq!(spans[0].kind, Some(SpanKind::Server));
        assert_eq!(spans[0].attributes["http.response.status_code"], "200");

        let tempo = r#"{"batches":[{"resource":{"attributes":[
            {"key":"service.name","value":{"stringValue":"b"}}]},
            "instrumentationLibrarySpans":[{"spans":[{"traceId":"q83v","spanId":"AQ==",
            "parentSpanId":"Ag==","name":"SELECT","kind":"SPAN_KIND_CLIENT",
            "attributes":[{"key":"n","value":{"intValue":3}},{"key":"ok","value":{"boolValue":true}}]}]}]}]}"#;
        let spans = serde_json::from_str::<TracesData>(tempo)
            .unwrap()
            .into_spans();
        assert_eq!(spans[0].kind, Some(SpanKind::Client));
        assert_eq!(spans[0].parent_span_id, "Ag==");
        assert_eq!(spans[0].attributes["n"], "3");
        assert_eq!(spans[0].attributes["ok"], "true");
    }
}
