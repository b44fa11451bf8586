//! Spans as both trace backends return them, and the pure checks over them:
//! selector matching, counting, and the trace-shape share.

use std::collections::{BTreeMap, HashMap};

use crate::spec::{ShapeCheck, SpanKind, SpanSelector};

/// One span, flattened: its service comes from the resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    pub service: String,
    pub name: String,
    pub kind: Option<SpanKind>,
    /// Span attributes, values as strings.
    pub attributes: BTreeMap<String, String>,
}

impl SpanSelector {
    /// Whether a span is one this selector describes.
    pub fn matches(&self, span: &Span) -> bool {
        span.service == self.service
            && self.name.matches(&span.name)
            && self.kind.is_none_or(|kind| span.kind == Some(kind))
            && self
                .attributes
                .iter()
                .all(|(key, value)| span.attributes.get(key) == Some(value))
    }
}

/// How many distinct spans match (a span may come back in two traces' answers).
pub fn count_matching(selector: &SpanSelector, spans: &[Span]) -> u64 {
    let mut seen = std::collections::HashSet::new();
    spans
        .iter()
        .filter(|span| selector.matches(span))
        .filter(|span| seen.insert((&span.trace_id, &span.span_id)))
        .count() as u64
}

/// How many distinct matching spans have no parent: roots of their own traces.
pub fn count_roots(selector: &SpanSelector, spans: &[Span]) -> u64 {
    let mut seen = std::collections::HashSet::new();
    spans
        .iter()
        .filter(|span| span.parent_span_id.is_empty() && selector.matches(span))
        .filter(|span| seen.insert((&span.trace_id, &span.span_id)))
        .count() as u64
}

/// What a trace-shape check found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShapeResult {
    /// Traces holding at least one matching SERVER span.
    pub traces: u64,
    /// Of those, traces where the shape is complete.
    pub stitched: u64,
}

impl ShapeResult {
    /// The share of stitched traces, 0 when there are none.
    pub fn share(&self) -> f64 {
        if self.traces == 0 {
            0.0
        } else {
            self.stitched as f64 / self.traces as f64
        }
    }

    pub fn passes(&self, check: &ShapeCheck) -> bool {
        self.traces >= check.min_traces && self.share() >= check.min_share
    }
}

/// Counts the traces with a matching SERVER span and, of those, the ones where
/// such a span has at least `min_children` matching CLIENT children (each leading
/// to a matching remote SERVER span when `remote` is set).
pub fn evaluate_shape(check: &ShapeCheck, spans: &[Span]) -> ShapeResult {
    let mut traces: BTreeMap<&str, Vec<&Span>> = BTreeMap::new();
    for span in spans {
        traces.entry(&span.trace_id).or_default().push(span);
    }
    let mut result = ShapeResult {
        traces: 0,
        stitched: 0,
    };
    for spans in traces.values() {
        let mut children: HashMap<&str, Vec<&Span>> = HashMap::new();
        for span in spans {
            children
                .entry(span.parent_span_id.as_str())
                .or_default()
                .push(span);
        }
        let kids = |span: &Span| {
            children
                .get(span.span_id.as_str())
                .cloned()
                .unwrap_or_default()
        };
        let servers: Vec<&&Span> = spans.iter().filter(|s| check.server.matches(s)).collect();
        if servers.is_empty() {
            continue;
        }
        result.traces += 1;
        let stitched = servers.iter().any(|server| {
            let good_clients = kids(server)
                .into_iter()
                .filter(|client| check.client.matches(client))
                .filter(|client| match &check.remote {
                    None => true,
                    Some(remote) => kids(client).into_iter().any(|s| remote.matches(s)),
                })
                .count() as u64;
            good_clients >= check.min_children
        });
        if stitched {
            result.stitched += 1;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::spec::NameMatch;

    fn span(
        trace: &str,
        id: &str,
        parent: &str,
        service: &str,
        name: &str,
        kind: SpanKind,
    ) -> Span {
        Span {
            trace_id: trace.into(),
            span_id: id.into(),
            parent_span_id: parent.into(),
            service: service.into(),
            name: name.into(),
            kind: Some(kind),
            attributes: BTreeMap::new(),
        }
    }

    fn selector(service: &str, kind: SpanKind) -> SpanSelector {
        SpanSelector {
            service: service.into(),
            name: NameMatch::Any,
            kind: Some(kind),
            attributes: BTreeMap::new(),
        }
    }

    fn shape(remote: bool, min_children: u64) -> ShapeCheck {
        ShapeCheck {
            server: selector("a", SpanKind::Server),
            client: selector("a", SpanKind::Client),
            remote: remote.then(|| selector("b", SpanKind::Server)),
            min_children,
            min_share: 0.5,
            min_traces: 1,
            window: Duration::from_secs(60),
        }
    }

    /// Trace 1 complete, trace 2 with an orphaned client call (its own trace 3).
    fn spans() -> Vec<Span> {
        vec![
            span("t1", "1", "", "a", "GET /x", SpanKind::Server),
            span("t1", "2", "1", "a", "POST /y", SpanKind::Client),
            span("t1", "3", "2", "b", "POST /y", SpanKind::Server),
            span("t2", "4", "", "a", "GET /x", SpanKind::Server),
            span("t3", "5", "", "a", "POST /y", SpanKind::Client),
            span("t3", "6", "5", "b", "POST /y", SpanKind::Server),
        ]
    }

    #[test]
    fn the_share_counts_only_stitched_traces() {
        let result = evaluate_shape(&shape(true, 1), &spans());
        assert_eq!(
            result,
            ShapeResult {
                traces: 2,
                stitched: 1
            }
        );
        assert_eq!(result.share(), 0.5);
        assert!(result.passes(&shape(true, 1)));
    }

    #[test]
    fn a_client_without_the_remote_server_does_not_count() {
        let mut spans = spans();
        spans.retain(|s| s.span_id != "3");
        assert_eq!(evaluate_shape(&shape(true, 1), &spans).stitched, 0);
        assert_eq!(evaluate_shape(&shape(false, 1), &spans).stitched, 1);
    }

    #[test]
    fn min_children_counts_client_calls_per_server_span() {
        let mut spans = spans();
        for id in 10..20 {
            spans.push(span(
                "t2",
                &id.to_string(),
                "4",
                "a",
                "SELECT",
                SpanKind::Client,
            ));
        }
        let result = evaluate_shape(&shape(false, 10), &spans);
        assert_eq!(
            result,
            ShapeResult {
                traces: 2,
                stitched: 1
            }
        );
    }

    #[test]
    fn no_traces_fail_with_a_zero_share() {
        let result = evaluate_shape(&shape(true, 1), &[]);
        assert_eq!(result.share(), 0.0);
        assert!(!result.passes(&shape(true, 1)));
    }

    #[test]
    fn only_parentless_spans_count_as_roots() {
        let clients = selector("a", SpanKind::Client);
        // Span 2 sits under a server span, span 5 is its own trace's root.
        assert_eq!(count_matching(&clients, &spans()), 2);
        assert_eq!(count_roots(&clients, &spans()), 1);
    }

    #[test]
    fn selectors_compare_attributes_as_strings() {
        let mut s = span("t", "1", "", "a", "GET /x", SpanKind::Server);
        s.attributes
            .insert("http.response.status_code".into(), "200".into());
        let mut sel = selector("a", SpanKind::Server);
        sel.attributes
            .insert("http.response.status_code".into(), "200".into());
        assert!(sel.matches(&s));
        sel.attributes
            .insert("http.response.status_code".into(), "500".into());
        assert!(!sel.matches(&s));
        assert_eq!(
            count_matching(&selector("a", SpanKind::Server), &[s.clone(), s]),
            1
        );
    }
}
