//! Jaeger's v3 query API (`/api/v3/traces`, `/api/v3/services`): whole traces in
//! OTLP JSON, filtered here by name pattern, kind and attributes.

use serde::Deserialize;

use crate::backend::{self, BackendError};
use crate::otlp_json::TracesData;
use crate::spans::Span;
use crate::spec::{NameMatch, SpanSelector};
use crate::traces::{MAX_TRACES, Window};

#[derive(Debug, Clone)]
pub struct Jaeger {
    http: reqwest::Client,
    base: String,
}

#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(default)]
    result: Option<TracesData>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

impl Jaeger {
    pub fn new(http: reqwest::Client, base: impl Into<String>) -> Self {
        Jaeger {
            http,
            base: base.into(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn probe(&self) -> Result<(), BackendError> {
        let url = backend::join(&self.base, "api/v3/services");
        let (status, body) = backend::get_text(&self.http, &url, &[]).await?;
        // An empty Jaeger answers `{}` (protobuf JSON leaves out empty lists).
        let is_object =
            serde_json::from_str::<serde_json::Value>(&body).is_ok_and(|v| v.is_object());
        if status != 200 || !is_object {
            return Err(BackendError::Unexpected {
                url,
                detail: format!(
                    "HTTP {status} (not Jaeger's v3 API?): {}",
                    backend::excerpt(&body)
                ),
            });
        }
        Ok(())
    }

    /// The traces of `selector.service` in the window (by operation when the name
    /// is exact), all their spans, and the query as text.
    pub async fn find_traces(
        &self,
        selector: &SpanSelector,
        window: Window,
    ) -> Result<(Vec<Span>, String), BackendError> {
        let url = backend::join(&self.base, "api/v3/traces");
        let mut query = vec![
            ("query.service_name", selector.service.clone()),
            ("query.start_time_min", rfc3339(window.start)),
            ("query.start_time_max", rfc3339(window.end)),
            ("query.num_traces", MAX_TRACES.to_string()),
        ];
        if let NameMatch::Exact(name) = &selector.name {
            query.push(("query.operation_name", name.clone()));
        }
        let shown = format!(
            "jaeger GET /api/v3/traces service={:?}{} | {selector}",
            selector.service,
            match &selector.name {
                NameMatch::Exact(name) => format!(" operation={name:?}"),
                _ => String::new(),
            }
        );
        let (status, body) = backend::get_text(&self.http, &url, &query).await?;
        let answer: Answer = backend::decode(&url, &body)?;
        match (status, answer) {
            (
                200,
                Answer {
                    result: Some(data), ..
                },
            ) => Ok((data.into_spans(), shown)),
            // Jaeger answers "no traces" as an error with code 404.
            (404, _) => Ok((Vec::new(), shown)),
            (200, Answer { result: None, .. }) => Ok((Vec::new(), shown)),
            (status, Answer { error, .. }) if (400..500).contains(&status) => {
                Err(BackendError::Rejected {
                    url,
                    message: error
                        .map(|e| e.to_string())
                        .unwrap_or_else(|| backend::excerpt(&body)),
                })
            }
            (status, _) => Err(BackendError::Unexpected {
                url,
                detail: format!("HTTP {status}: {}", backend::excerpt(&body)),
            }),
        }
    }
}

fn rfc3339(time: std::time::SystemTime) -> String {
    humantime::format_rfc3339_nanos(time).to_string()
}
