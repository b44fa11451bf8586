//! The TraceQL of the dashboards' trace links, read back into a span selector so
//! that a link can be run against Jaeger (Tempo cannot run here). Only the subset
//! the links use: one span set `{ ... }` of `&&`-joined equalities on
//! `resource.service.name`, `name`, `kind` and `span.<attribute>`.

use std::collections::BTreeMap;

use telemetry_check::spec::{NameMatch, SpanKind, SpanSelector};

pub fn selector(traceql: &str) -> Result<SpanSelector, String> {
    let body = traceql
        .trim()
        .strip_prefix('{')
        .and_then(|rest| rest.strip_suffix('}'))
        .ok_or_else(|| format!("not one span set {{ ... }}: {traceql}"))?;
    let mut service = None;
    let mut name = NameMatch::Any;
    let mut kind = None;
    let mut attributes = BTreeMap::new();
    for term in body.split("&&") {
        let (lhs, rhs) = term
            .split_once('=')
            .ok_or_else(|| format!("not an equality: {term:?} in {traceql}"))?;
        let (lhs, rhs) = (lhs.trim(), rhs.trim());
        if lhs.ends_with(['!', '<', '>', '~']) || rhs.starts_with(['~', '=']) {
            return Err(format!("only = is read here: {term:?} in {traceql}"));
        }
        let value = match rhs.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            Some(quoted) => quoted.replace("\\\"", "\"").replace("\\\\", "\\"),
            None => rhs.to_owned(),
        };
        match lhs {
            "resource.service.name" => service = Some(value),
            "name" => name = NameMatch::Exact(value),
            "kind" => {
                kind = Some(match value.as_str() {
                    "server" => SpanKind::Server,
                    "client" => SpanKind::Client,
                    "producer" => SpanKind::Producer,
                    "consumer" => SpanKind::Consumer,
                    "internal" => SpanKind::Internal,
                    other => return Err(format!("unknown kind {other:?} in {traceql}")),
                });
            }
            other => {
                let attribute = other
                    .strip_prefix("span.")
                    .or_else(|| other.strip_prefix('.'))
                    .ok_or_else(|| format!("unknown field {other:?} in {traceql}"))?;
                attributes.insert(attribute.to_owned(), value);
            }
        }
    }
    Ok(SpanSelector {
        service: service.ok_or_else(|| format!("no resource.service.name in {traceql}"))?,
        name,
        kind,
        attributes,
    })
}

#[test]
fn a_link_query_becomes_a_selector() {
    let s = selector(
        r#"{ resource.service.name = "sql-application" && kind = client && span.db.operation.name = "SELECT" && name = "SELECT orders" }"#,
    )
    .unwrap();
    assert_eq!(s.service, "sql-application");
    assert_eq!(s.kind, Some(SpanKind::Client));
    assert_eq!(s.attributes["db.operation.name"], "SELECT");
    assert!(s.name.matches("SELECT orders"));
    assert!(selector("{ kind = server }").is_err());
    assert!(selector(r#"{ resource.service.name =~ "a.*" }"#).is_err());
}
