//! The file format: what a spec file may say, as serde reads it, before
//! validation turns it into a [`Spec`](super::Spec).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::SpanKind;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSpec {
    pub(super) app: String,
    #[serde(default)]
    pub(super) fault: Option<String>,
    #[serde(default)]
    #[allow(dead_code)] // documentation for readers of the file
    pub(super) description: Option<String>,
    pub(super) expectations: Vec<RawExpectation>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum RawExpectation {
    Metric(RawMetric),
    Span(RawSpan),
    TraceShape(RawShape),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMetric {
    pub(super) name: String,
    pub(super) query: String,
    pub(super) compare: String,
    #[serde(default)]
    pub(super) ratio_to: Option<String>,
    #[serde(default)]
    pub(super) companion: Option<String>,
    #[serde(default)]
    pub(super) absent_ok: bool,
    #[serde(default)]
    pub(super) unless_faults: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSpan {
    pub(super) name: String,
    pub(super) service: String,
    #[serde(default)]
    pub(super) span_name: Option<String>,
    #[serde(default)]
    pub(super) span_name_regex: Option<String>,
    #[serde(default)]
    pub(super) span_kind: Option<SpanKind>,
    #[serde(default)]
    pub(super) attributes: BTreeMap<String, serde_yaml_ng::Value>,
    #[serde(default = "one")]
    pub(super) min_count: u64,
    #[serde(default)]
    pub(super) window: Option<String>,
    #[serde(default)]
    pub(super) root: bool,
    #[serde(default)]
    pub(super) unless_faults: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawShape {
    pub(super) name: String,
    pub(super) server: RawSelector,
    pub(super) client: RawSelector,
    #[serde(default)]
    pub(super) remote: Option<RawSelector>,
    #[serde(default = "one")]
    pub(super) min_children: u64,
    pub(super) min_share: f64,
    #[serde(default = "one")]
    pub(super) min_traces: u64,
    #[serde(default)]
    pub(super) window: Option<String>,
    #[serde(default)]
    pub(super) unless_faults: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSelector {
    #[serde(default)]
    pub(super) service: Option<String>,
    #[serde(default)]
    pub(super) span_name: Option<String>,
    #[serde(default)]
    pub(super) span_name_regex: Option<String>,
    #[serde(default)]
    pub(super) attributes: BTreeMap<String, serde_yaml_ng::Value>,
}

pub(super) fn one() -> u64 {
    1
}
