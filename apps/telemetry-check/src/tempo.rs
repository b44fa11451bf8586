//! Tempo's HTTP API: TraceQL search (`/api/search`) to count spans and find
//! traces, trace by id (`/api/traces/<id>`) for trace shapes.

use serde::Deserialize;

use crate::backend::{self, BackendError};
use crate::otlp_json::TracesData;
use crate::spans::Span;
use crate::spec::{NameMatch, SpanSelector};
use crate::traces::{MAX_TRACES, Window};

/// Traces fetched one by one for a shape check.
const SHAPE_TRACES: usize = 50;

#[derive(Debug, Clone)]
pub struct Tempo {
    http: reqwest::Client,
    base: String,
}

#[derive(Debug, Deserialize)]
struct SearchAnswer {
    #[serde(default)]
    traces: Vec<TraceHit>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TraceHit {
    #[serde(rename = "traceID")]
    trace_id: String,
    #[serde(default)]
    span_set: Option<SpanSet>,
    #[serde(default)]
    span_sets: Vec<SpanSet>,
}

#[derive(Debug, Deserialize)]
struct SpanSet {
    #[serde(default)]
    matched: u64,
}

impl TraceHit {
    fn matched(&self) -> u64 {
        if self.span_sets.is_empty() {
            self.span_set.as_ref().map_or(0, |set| set.matched)
        } else {
            self.span_sets.iter().map(|set| set.matched).sum()
        }
    }
}

impl Tempo {
    pub fn new(http: reqwest::Client, base: impl Into<String>) -> Self {
        Tempo {
            http,
            base: base.into(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn probe(&self) -> Result<(), BackendError> {
        let url = backend::join(&self.base, "api/echo");
        let (status, body) = backend::get_text(&self.http, &url, &[]).await?;
        if status != 200 {
            return Err(BackendError::Unexpected {
                url,
                detail: format!(
                    "HTTP {status} (not Tempo's API?): {}",
                    backend::excerpt(&body)
                ),
            });
        }
        Ok(())
    }

    async fn search(
        &self,
        traceql: &str,
        window: Window,
        limit: usize,
    ) -> Result<Vec<TraceHit>, BackendError> {
        let url = backend::join(&self.base, "api/search");
        let secs = |t: std::time::SystemTime| {
            t.duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
                .to_string()
        };
        let query = [
            ("q", traceql.to_owned()),
            ("start", secs(window.start)),
            (
                "end",
                (secs(window.end).parse::<u64>().unwrap_or(0) + 1).to_string(),
            ),
            ("limit", limit.to_string()),
            ("spss", "1000".to_owned()),
        ];
        let (status, body) = backend::get_text(&self.http, &url, &query).await?;
        match status {
            200 => Ok(backend::decode::<SearchAnswer>(&url, &body)?.traces),
            400..=499 => Err(BackendError::Rejected {
                url,
                message: backend::excerpt(&body),
            }),
            _ => Err(BackendError::Unexpected {
                url,
                detail: format!("HTTP {status}: {}", backend::excerpt(&body)),
            }),
        }
    }

    pub async fn count_spans(
        &self,
        selector: &SpanSelector,
        window: Window,
    ) -> Result<(u64, String), BackendError> {
        let traceql = traceql(selector);
        let hits = self.search(&traceql, window, MAX_TRACES).await?;
        let count = hits.iter().map(TraceHit::matched).sum();
        Ok((count, format!("tempo TraceQL {traceql}")))
    }

    pub async fn traces_with(
        &self,
        selector: &SpanSelector,
        window: Window,
    ) -> Result<(Vec<Span>, String), BackendError> {
        let traceql = traceql(selector);
        let hits = self.search(&traceql, window, SHAPE_TRACES).await?;
        let mut spans = Vec::new();
        for hit in hits {
            let url = backend::join(&self.base, &format!("api/traces/{}", hit.trace_id));
            let (status, body) = backend::get_text(&self.http, &url, &[]).await?;
            if status == 404 {
                continue;
            }
            if status != 200 {
                return Err(BackendError::Unexpected {
                    url,
                    detail: format!("HTTP {status}: {}", backend::excerpt(&body)),
                });
            }
            spans.extend(backend::decode::<TracesData>(&url, &body)?.into_spans());
        }
        Ok((
            spans,
            format!("tempo TraceQL {traceql}, then each trace by id"),
        ))
    }
}

/// The TraceQL selecting what `selector` describes. Attribute values that look
/// like numbers or booleans match either type (OBI sends status codes as ints).
pub fn traceql(selector: &SpanSelector) -> String {
    let mut terms = vec![format!(
        "resource.service.name = {}",
        quote(&selector.service)
    )];
    match &selector.name {
        NameMatch::Any => {}
        NameMatch::Exact(name) => terms.push(format!("name = {}", quote(name))),
        NameMatch::Regex(regex) => terms.push(format!("name =~ {}", quote(regex.as_str()))),
    }
    if let Some(kind) = selector.kind {
        terms.push(format!("kind = {}", kind.as_str()));
    }
    for (key, value) in &selector.attributes {
        let typed = value.parse::<i64>().is_ok()
            || value.parse::<f64>().is_ok()
            || value == "true"
            || value == "false";
        if typed {
            terms.push(format!("(.{key} = {value} || .{key} = {})", quote(value)));
        } else {
            terms.push(format!(".{key} = {}", quote(value)));
        }
    }
    format!("{{ {} }}", terms.join(" && "))
}

fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::spec::SpanKind;

    #[test]
    fn traceql_names_every_condition() {
        let selector = SpanSelector {
            service: "http-rest-api".into(),
            name: NameMatch::Exact("GET /api/v1/products/{id}".into()),
            kind: Some(SpanKind::Server),
            attributes: BTreeMap::from([
                ("http.response.status_code".into(), "200".into()),
                ("url.scheme".into(), "ht\"tp".into()),
            ]),
        };
        assert_eq!(
            traceql(&selector),
            r#"{ resource.service.name = "http-rest-api" && name = "GET /api/v1/products/{id}" && kind = server && (.http.response.status_code = 200 || .http.response.status_code = "200") && .url.scheme = "ht\"tp" }"#
        );
    }

    /// A stand-in for Tempo's HTTP API (Tempo itself cannot run here): answers by
    /// path from `routes` (path prefix → status and body; 404 otherwise), one request
    /// per connection, and hands back every request line it saw.
    mod stand_in {
        use tokio::sync::mpsc;

        pub async fn serve(
            routes: Vec<(&'static str, u16, &'static str)>,
        ) -> (String, mpsc::UnboundedReceiver<String>) {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            let (lines, seen) = mpsc::unbounded_channel();
            tokio::spawn(async move {
                while let Ok((mut tcp, _)) = listener.accept().await {
                    let head = crate::stand_in::read_head(&mut tcp).await;
                    let line = head.lines().next().unwrap_or_default().to_owned();
                    let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
                    let _ = lines.send(line);
                    let (status, body) = routes
                        .iter()
                        .find(|(prefix, _, _)| path.starts_with(prefix))
                        .map_or((404, "not found"), |&(_, status, body)| (status, body));
                    crate::stand_in::answer(&mut tcp, &status.to_string(), body).await;
                }
            });
            (base, seen)
        }
    }

    fn client(base: &str) -> Tempo {
        Tempo::new(backend::client(std::time::Duration::from_secs(5)), base)
    }

    fn selector() -> SpanSelector {
        SpanSelector {
            service: "sql-application".into(),
            name: NameMatch::Exact("SELECT orders".into()),
            kind: Some(SpanKind::Client),
            attributes: BTreeMap::new(),
        }
    }

    fn window() -> Window {
        Window::last(std::time::Duration::from_secs(300))
    }

    const HITS: &str = r#"{"traces":[{"traceID":"t1","spanSet":{"matched":3}},{"traceID":"t2","spanSets":[{"matched":2}]},{"traceID":"gone","spanSet":{"matched":1}}]}"#;

    const TRACE: &str = r#"{"batches":[{"resource":{"attributes":[
        {"key":"service.name","value":{"stringValue":"sql-application"}}]},
        "scopeSpans":[{"spans":[{"traceId":"t","spanId":"AQ==","name":"SELECT orders","kind":"SPAN_KIND_CLIENT"}]}]}]}"#;

    #[tokio::test]
    async fn the_probe_tells_tempo_from_something_else() {
        let (tempo, _) = stand_in::serve(vec![("/api/echo", 200, "echo")]).await;
        client(&tempo).probe().await.unwrap();
        let (other, _) = stand_in::serve(vec![]).await;
        let err = client(&other).probe().await.unwrap_err().to_string();
        assert!(err.contains("not Tempo's API"), "{err}");
    }

    #[tokio::test]
    async fn spans_are_counted_from_one_traceql_search() {
        let (base, mut seen) = stand_in::serve(vec![("/api/search", 200, HITS)]).await;
        let (count, how) = client(&base)
            .count_spans(&selector(), window())
            .await
            .unwrap();
        assert_eq!(count, 6);
        assert!(how.contains("kind = client"), "{how}");
        let line = seen.recv().await.unwrap();
        assert!(line.starts_with("GET /api/search?q="), "{line}");
        assert!(line.contains("resource.service.name"), "{line}");
        assert!(line.contains("&limit="), "{line}");
    }

    #[tokio::test]
    async fn shapes_fetch_every_trace_found_and_skip_the_expired() {
        let (base, mut seen) = stand_in::serve(vec![
            ("/api/search", 200, HITS),
            ("/api/traces/t1", 200, TRACE),
            ("/api/traces/t2", 200, TRACE),
        ])
        .await;
        let (spans, how) = client(&base)
            .traces_with(&selector(), window())
            .await
            .unwrap();
        assert_eq!(spans.len(), 2, "t1 and t2; `gone` answers 404");
        assert!(spans.iter().all(|s| s.kind == Some(SpanKind::Client)));
        assert!(how.contains("each trace by id"), "{how}");
        let mut paths = Vec::new();
        while let Ok(line) = seen.try_recv() {
            paths.push(line.split(' ').nth(1).unwrap_or_default().to_owned());
        }
        assert!(paths.contains(&"/api/traces/gone".to_owned()), "{paths:?}");
    }

    #[tokio::test]
    async fn a_refused_query_and_a_broken_backend_are_told_apart() {
        let (bad_query, _) =
            stand_in::serve(vec![("/api/search", 400, "invalid TraceQL query")]).await;
        let err = client(&bad_query)
            .count_spans(&selector(), window())
            .await
            .unwrap_err();
        assert!(matches!(err, BackendError::Rejected { .. }), "{err:?}");
        assert!(err.to_string().contains("invalid TraceQL"), "{err}");

        let (broken, _) = stand_in::serve(vec![
            ("/api/search", 200, HITS),
            ("/api/traces/", 500, "ingester down"),
        ])
        .await;
        let err = client(&broken)
            .traces_with(&selector(), window())
            .await
            .unwrap_err();
        assert!(matches!(err, BackendError::Unexpected { .. }), "{err:?}");
        assert!(err.to_string().contains("ingester down"), "{err}");

        let (down, _) = stand_in::serve(vec![("/api/search", 503, "starting")]).await;
        let err = client(&down)
            .count_spans(&selector(), window())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("503"), "{err}");
    }

    #[test]
    fn matched_counts_come_from_span_sets() {
        let json = r#"{"traces":[{"traceID":"a","spanSet":{"matched":2},"spanSets":[{"matched":2},{"matched":1}]},
            {"traceID":"b","spanSet":{"matched":4}}]}"#;
        let answer: SearchAnswer = serde_json::from_str(json).unwrap();
        let total: u64 = answer.traces.iter().map(TraceHit::matched).sum();
        assert_eq!(total, 7);
    }
}
