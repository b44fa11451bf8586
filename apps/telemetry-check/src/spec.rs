//! Spec files: what OBI must show for one app (or one of its fault scenarios),
//! parsed, validated and linted with errors that name the file and the field.
//!
//! The lint runs at load time, so a spec that could pass on nothing never runs:
//! every PromQL range window must span [`INTERVALS_PER_WINDOW`] export intervals,
//! and "no data" may not be hidden behind `or vector(0)` (a spec says
//! `absent_ok: true` instead, with a denominator or companion query that must
//! have data).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;

use crate::compare::Comparison;

/// How far back span and trace expectations look unless a spec says otherwise.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(15 * 60);

/// OBI's default `otel_metrics_export.interval`. telemetry-check cannot read the
/// OBI configuration, so specs are linted for this longest usual interval unless
/// told otherwise (`--export-interval`); `values/obi.yaml` sets 15 s, for which
/// every window that passes here holds too.
pub const OBI_DEFAULT_EXPORT_INTERVAL: Duration = Duration::from_secs(60);

/// Export intervals a range window must span: with fewer, `rate()` may find a
/// single sample and return nothing.
pub const INTERVALS_PER_WINDOW: u32 = 4;

/// What loading needs besides the file: the lint's export interval and the
/// chart's fault settings for `${faults.*}` placeholders.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The export interval the specs must hold for (OBI pushes metrics this often).
    pub export_interval: Duration,
    /// The chart's `faults` values as JSON; `None` leaves placeholders unresolved.
    pub fault_settings: Option<serde_json::Value>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            export_interval: OBI_DEFAULT_EXPORT_INTERVAL,
            fault_settings: None,
        }
    }
}

impl LoadOptions {
    /// The shortest range window a query may use.
    pub fn min_window(&self) -> Duration {
        self.export_interval * INTERVALS_PER_WINDOW
    }
}

/// One validated spec file.
#[derive(Debug, Clone)]
pub struct Spec {
    pub file: PathBuf,
    pub app: String,
    /// The fault scenario the spec belongs to; `None` for normal traffic.
    pub fault: Option<String>,
    pub expectations: Vec<Expectation>,
    /// `${faults.*}` placeholders left unresolved (no fault settings were given).
    pub unresolved: Vec<String>,
}

/// One named assertion.
#[derive(Debug, Clone)]
pub struct Expectation {
    pub name: String,
    pub check: Check,
    /// Faults that invalidate it: while one of them is on, it is skipped.
    pub unless_faults: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum Check {
    Metric(MetricCheck),
    Span(SpanCheck),
    TraceShape(Box<ShapeCheck>),
}

/// A PromQL instant query (summed over all returned series), optionally divided by
/// a second one, compared with a threshold. A query that returns no series fails
/// as "no data" unless `absent_ok`, which counts it as 0 but then requires
/// `ratio_to` (or `companion`) to return data: "none of these" only means
/// something where there was traffic.
#[derive(Debug, Clone)]
pub struct MetricCheck {
    pub query: String,
    pub ratio_to: Option<String>,
    /// A query that must return data for the expectation to be judged at all.
    pub companion: Option<String>,
    pub absent_ok: bool,
    pub compare: Comparison,
}

/// At least `min_count` spans matching `selector` within `window` (with `root`,
/// only spans without a parent count).
#[derive(Debug, Clone)]
pub struct SpanCheck {
    pub selector: SpanSelector,
    pub min_count: u64,
    pub window: Duration,
    pub root: bool,
}

/// The share of traces where a SERVER span of one service has CLIENT children
/// (at least `min_children`), optionally each leading to a SERVER span of another.
#[derive(Debug, Clone)]
pub struct ShapeCheck {
    pub server: SpanSelector,
    pub client: SpanSelector,
    pub remote: Option<SpanSelector>,
    pub min_children: u64,
    pub min_share: f64,
    pub min_traces: u64,
    pub window: Duration,
}

/// Which spans count: service, name (exact or regex), kind and attributes.
#[derive(Debug, Clone)]
pub struct SpanSelector {
    pub service: String,
    pub name: NameMatch,
    pub kind: Option<SpanKind>,
    /// Attribute name to value, compared as strings (`200` equals `"200"`).
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub enum NameMatch {
    Any,
    Exact(String),
    Regex(Regex),
}

impl NameMatch {
    pub fn matches(&self, name: &str) -> bool {
        match self {
            NameMatch::Any => true,
            NameMatch::Exact(exact) => exact == name,
            NameMatch::Regex(regex) => regex.is_match(name),
        }
    }
}

/// The pattern as the spec wrote it (the compiled regex is anchored).
pub fn written_pattern(regex: &Regex) -> &str {
    let text = regex.as_str();
    text.strip_prefix("^(?:")
        .and_then(|t| t.strip_suffix(")$"))
        .unwrap_or(text)
}

impl fmt::Display for NameMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameMatch::Any => write!(f, "any name"),
            NameMatch::Exact(exact) => write!(f, "name={exact:?}"),
            NameMatch::Regex(regex) => write!(f, "name=~{:?}", written_pattern(regex)),
        }
    }
}

/// OTLP span kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanKind {
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

impl SpanKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Internal => "internal",
            SpanKind::Server => "server",
            SpanKind::Client => "client",
            SpanKind::Producer => "producer",
            SpanKind::Consumer => "consumer",
        }
    }
}

impl fmt::Display for SpanSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "service={:?} {}", self.service, self.name)?;
        if let Some(kind) = self.kind {
            write!(f, " kind={}", kind.as_str())?;
        }
        for (key, value) in &self.attributes {
            write!(f, " {key}={value:?}")?;
        }
        Ok(())
    }
}

/// A spec that could not be loaded: the file, the field and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {field}: {message}")]
pub struct SpecError {
    pub file: PathBuf,
    /// Path of the offending field, e.g. `expectations[2].compare`.
    pub field: String,
    pub message: String,
}

mod load;
mod raw;
#[cfg(test)]
mod tests;

pub use load::*;
