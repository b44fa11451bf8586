//! Spec files: what OBI must show for one app (or one of its fault scenarios),
//! parsed, validated and linted with errors that name the file and the field.
//!
//! The lint runs at load time, so a spec that could pass on nothing never runs:
//! every PromQL range window must span [`INTERVALS_PER_WINDOW`] export intervals,
//! and "no data" may not be hidden behind `or vector(0)` (a spec says
//! `absent_ok: true` instead, with a denominator or companion query that must
//! have data).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;

use crate::compare::Comparison;
use crate::{placeholders, promql};

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

// --- the file format -------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    app: String,
    #[serde(default)]
    fault: Option<String>,
    #[serde(default)]
    #[allow(dead_code)] // documentation for readers of the file
    description: Option<String>,
    expectations: Vec<RawExpectation>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum RawExpectation {
    Metric(RawMetric),
    Span(RawSpan),
    TraceShape(RawShape),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetric {
    name: String,
    query: String,
    compare: String,
    #[serde(default)]
    ratio_to: Option<String>,
    #[serde(default)]
    companion: Option<String>,
    #[serde(default)]
    absent_ok: bool,
    #[serde(default)]
    unless_faults: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpan {
    name: String,
    service: String,
    #[serde(default)]
    span_name: Option<String>,
    #[serde(default)]
    span_name_regex: Option<String>,
    #[serde(default)]
    span_kind: Option<SpanKind>,
    #[serde(default)]
    attributes: BTreeMap<String, serde_yaml_ng::Value>,
    #[serde(default = "one")]
    min_count: u64,
    #[serde(default)]
    window: Option<String>,
    #[serde(default)]
    root: bool,
    #[serde(default)]
    unless_faults: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShape {
    name: String,
    server: RawSelector,
    client: RawSelector,
    #[serde(default)]
    remote: Option<RawSelector>,
    #[serde(default = "one")]
    min_children: u64,
    min_share: f64,
    #[serde(default = "one")]
    min_traces: u64,
    #[serde(default)]
    window: Option<String>,
    #[serde(default)]
    unless_faults: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSelector {
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    span_name: Option<String>,
    #[serde(default)]
    span_name_regex: Option<String>,
    #[serde(default)]
    attributes: BTreeMap<String, serde_yaml_ng::Value>,
}

fn one() -> u64 {
    1
}

// --- loading -----------------------------------------------------------------------

/// Loads every `*.yaml`/`*.yml` file of `paths` (files, or directories read in name
/// order), validating and linting each.
pub fn load_all(paths: &[PathBuf], options: &LoadOptions) -> Result<Vec<Spec>, SpecError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|err| SpecError {
                file: path.clone(),
                field: "(directory)".into(),
                message: format!("cannot read: {err}"),
            })?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|path| is_spec_file(path))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    files.iter().map(|file| load_with(file, options)).collect()
}

/// Whether a directory entry is a spec file (ConfigMap mounts also hold `..data`
/// symlinks and hidden directories, which are not).
pub fn is_spec_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    !name.starts_with('.') && (name.ends_with(".yaml") || name.ends_with(".yml"))
}

/// Loads, validates and lints one spec file with the default options (OBI's
/// default export interval, placeholders left unresolved).
pub fn load(file: &Path) -> Result<Spec, SpecError> {
    load_with(file, &LoadOptions::default())
}

/// Loads, validates and lints one spec file.
pub fn load_with(file: &Path, options: &LoadOptions) -> Result<Spec, SpecError> {
    let text = std::fs::read_to_string(file).map_err(|err| SpecError {
        file: file.to_owned(),
        field: "(file)".into(),
        message: format!("cannot read: {err}"),
    })?;
    parse_with(file, &text, options)
}

/// [`parse_with`] with the default options.
pub fn parse(file: &Path, text: &str) -> Result<Spec, SpecError> {
    parse_with(file, text, &LoadOptions::default())
}

/// Parses, validates and lints spec text; `file` names it in errors and gives the
/// fault scenario when the spec does not (`<app>-<fault>.yaml`).
pub fn parse_with(file: &Path, text: &str, options: &LoadOptions) -> Result<Spec, SpecError> {
    let error = |field: String, message: String| SpecError {
        file: file.to_owned(),
        field,
        message,
    };
    let text = match &options.fault_settings {
        Some(settings) => placeholders::resolve(text, settings)
            .map_err(|message| error("(placeholders)".into(), message))?,
        None => text.to_owned(),
    };
    let deserializer = serde_yaml_ng::Deserializer::from_str(&text);
    let raw: RawSpec = serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        let field = if path == "." {
            "(top level)".into()
        } else {
            path
        };
        error(field, err.into_inner().to_string())
    })?;
    if raw.app.trim().is_empty() {
        return Err(error("app".into(), "must not be empty".into()));
    }
    if raw.expectations.is_empty() {
        return Err(error(
            "expectations".into(),
            "must list at least one expectation".into(),
        ));
    }
    let fault = raw
        .fault
        .clone()
        .or_else(|| fault_from_file(file, &raw.app));
    let mut names = BTreeSet::new();
    let mut expectations = Vec::new();
    for (index, raw) in raw.expectations.into_iter().enumerate() {
        let at = |field: &str| format!("expectations[{index}].{field}");
        let expectation =
            validate(raw, &at, options).map_err(|(field, message)| error(field, message))?;
        if !names.insert(expectation.name.clone()) {
            return Err(error(
                at("name"),
                format!("{:?} is used twice in this file", expectation.name),
            ));
        }
        if let Some(own) = fault
            .as_deref()
            .filter(|own| expectation.unless_faults.iter().any(|f| f == own))
        {
            return Err(error(
                at("unless_faults"),
                format!("names this spec's own fault {own:?}, which would skip it always"),
            ));
        }
        expectations.push(expectation);
    }
    Ok(Spec {
        file: file.to_owned(),
        app: raw.app,
        fault,
        expectations,
        unresolved: placeholders::find(&text),
    })
}

/// `http-rest-api-latency.yaml` with app `http-rest-api` is the `latency` fault.
fn fault_from_file(file: &Path, app: &str) -> Option<String> {
    let stem = file.file_stem()?.to_str()?;
    stem.strip_prefix(app)?
        .strip_prefix('-')
        .filter(|fault| !fault.is_empty())
        .map(str::to_owned)
}

type FieldError = (String, String);

fn validate(
    raw: RawExpectation,
    at: &dyn Fn(&str) -> String,
    options: &LoadOptions,
) -> Result<Expectation, FieldError> {
    let nonempty = |field: &str, value: &str| {
        if value.trim().is_empty() {
            Err((at(field), "must not be empty".to_owned()))
        } else {
            Ok(())
        }
    };
    let faults = |list: Vec<String>| -> Result<Vec<String>, FieldError> {
        let mut seen = BTreeSet::new();
        for (i, fault) in list.iter().enumerate() {
            if fault.trim().is_empty() {
                return Err((
                    at(&format!("unless_faults[{i}]")),
                    "must not be empty".into(),
                ));
            }
            if !seen.insert(fault) {
                return Err((
                    at(&format!("unless_faults[{i}]")),
                    format!("{fault:?} is listed twice"),
                ));
            }
        }
        Ok(list)
    };
    match raw {
        RawExpectation::Metric(raw) => {
            nonempty("name", &raw.name)?;
            let queries = [
                ("query", Some(&raw.query)),
                ("ratio_to", raw.ratio_to.as_ref()),
                ("companion", raw.companion.as_ref()),
            ];
            for (field, query) in queries {
                if let Some(query) = query {
                    nonempty(field, query)?;
                    lint_query(query, options).map_err(|message| (at(field), message))?;
                }
            }
            let compare: Comparison = raw.compare.parse().map_err(|err| (at("compare"), err))?;
            if raw.absent_ok {
                if raw.ratio_to.is_none() && raw.companion.is_none() {
                    return Err((
                        at("absent_ok"),
                        "needs ratio_to or companion: a query that must return data, so \
                         that \"none of these\" is told from \"no traffic at all\""
                            .into(),
                    ));
                }
                if compare.is_lower_bound() {
                    return Err((
                        at("absent_ok"),
                        format!(
                            "cannot go with {compare}: no data counts as 0, which a lower \
                             bound never accepts"
                        ),
                    ));
                }
            }
            Ok(Expectation {
                name: raw.name,
                check: Check::Metric(MetricCheck {
                    query: raw.query,
                    ratio_to: raw.ratio_to,
                    companion: raw.companion,
                    absent_ok: raw.absent_ok,
                    compare,
                }),
                unless_faults: faults(raw.unless_faults)?,
            })
        }
        RawExpectation::Span(raw) => {
            nonempty("name", &raw.name)?;
            nonempty("service", &raw.service)?;
            if raw.min_count == 0 {
                return Err((at("min_count"), "must be at least 1".into()));
            }
            let selector = selector(
                Some(raw.service),
                raw.span_name,
                raw.span_name_regex,
                raw.span_kind,
                raw.attributes,
                &|field| at(field),
            )?;
            Ok(Expectation {
                name: raw.name,
                check: Check::Span(SpanCheck {
                    selector,
                    min_count: raw.min_count,
                    window: window(raw.window, &at("window"))?,
                    root: raw.root,
                }),
                unless_faults: faults(raw.unless_faults)?,
            })
        }
        RawExpectation::TraceShape(raw) => {
            nonempty("name", &raw.name)?;
            let server_service = raw.server.service.clone();
            let Some(server_service) = server_service.filter(|s| !s.trim().is_empty()) else {
                return Err((at("server.service"), "is required".into()));
            };
            let part = |name: &str, raw: RawSelector, kind, default_service: Option<String>| {
                let prefix = format!("{name}.");
                selector(
                    raw.service.or(default_service),
                    raw.span_name,
                    raw.span_name_regex,
                    Some(kind),
                    raw.attributes,
                    &|field| at(&format!("{prefix}{field}")),
                )
            };
            let server = part("server", raw.server, SpanKind::Server, None)?;
            let client = part("client", raw.client, SpanKind::Client, Some(server_service))?;
            let remote = match raw.remote {
                Some(remote) if remote.service.is_none() => {
                    return Err((at("remote.service"), "is required".into()));
                }
                Some(remote) => Some(part("remote", remote, SpanKind::Server, None)?),
                None => None,
            };
            if !(0.0..=1.0).contains(&raw.min_share) {
                return Err((at("min_share"), "must be between 0 and 1".into()));
            }
            if raw.min_children == 0 {
                return Err((at("min_children"), "must be at least 1".into()));
            }
            if raw.min_traces == 0 {
                return Err((at("min_traces"), "must be at least 1".into()));
            }
            Ok(Expectation {
                name: raw.name,
                check: Check::TraceShape(Box::new(ShapeCheck {
                    server,
                    client,
                    remote,
                    min_children: raw.min_children,
                    min_share: raw.min_share,
                    min_traces: raw.min_traces,
                    window: window(raw.window, &at("window"))?,
                })),
                unless_faults: faults(raw.unless_faults)?,
            })
        }
    }
}

/// The load-time lint of one PromQL query: no hidden "no data", and every range
/// window long enough for the export interval.
fn lint_query(query: &str, options: &LoadOptions) -> Result<(), String> {
    if promql::hides_no_data(query) {
        return Err(
            "hides \"no data\" behind `or vector(...)`, so it passes on nothing; drop it and \
             say `absent_ok: true` (with ratio_to or companion) where no series is fine"
                .into(),
        );
    }
    let min = options.min_window();
    for (written, length) in promql::windows(query) {
        match length {
            None => {
                return Err(format!(
                    "{written} is not a Prometheus duration (e.g. [5m])"
                ));
            }
            Some(length) if length < min => {
                return Err(format!(
                    "{written} spans less than {INTERVALS_PER_WINDOW} export intervals \
                     ({INTERVALS_PER_WINDOW} x {} = {}): OBI pushes metrics once per \
                     interval, so rate() over it may see one sample and return nothing; \
                     use [5m]",
                    humantime::format_duration(options.export_interval),
                    humantime::format_duration(min)
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn selector(
    service: Option<String>,
    span_name: Option<String>,
    span_name_regex: Option<String>,
    kind: Option<SpanKind>,
    attributes: BTreeMap<String, serde_yaml_ng::Value>,
    at: &dyn Fn(&str) -> String,
) -> Result<SpanSelector, FieldError> {
    let service = service.unwrap_or_default();
    if service.trim().is_empty() {
        return Err((at("service"), "must not be empty".into()));
    }
    let name = match (span_name, span_name_regex) {
        (Some(_), Some(_)) => {
            return Err((
                at("span_name_regex"),
                "give span_name or span_name_regex, not both".into(),
            ));
        }
        (Some(exact), None) => NameMatch::Exact(exact),
        (None, Some(pattern)) => {
            // Anchored: `GET /api/.*` must not match `xGET /api/...`.
            let regex = Regex::new(&format!("^(?:{pattern})$"))
                .map_err(|err| (at("span_name_regex"), format!("not a valid regex: {err}")))?;
            NameMatch::Regex(regex)
        }
        (None, None) => NameMatch::Any,
    };
    let mut attrs = BTreeMap::new();
    for (key, value) in attributes {
        let text = match value {
            serde_yaml_ng::Value::String(text) => text,
            serde_yaml_ng::Value::Number(number) => number.to_string(),
            serde_yaml_ng::Value::Bool(flag) => flag.to_string(),
            _ => {
                return Err((
                    at(&format!("attributes.{key}")),
                    "must be a string, number or boolean".into(),
                ));
            }
        };
        attrs.insert(key, text);
    }
    Ok(SpanSelector {
        service,
        name,
        kind,
        attributes: attrs,
    })
}

fn window(raw: Option<String>, field: &str) -> Result<Duration, FieldError> {
    match raw {
        None => Ok(DEFAULT_WINDOW),
        Some(text) => humantime::parse_duration(&text).map_err(|err| {
            (
                field.to_owned(),
                format!("{text:?} is not a duration: {err}"),
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Spec, SpecError> {
        parse(Path::new("charts/x/telemetry/http-rest-api.yaml"), text)
    }

    const GOOD: &str = r#"
app: http-rest-api
expectations:
  - name: requests are counted
    kind: metric
    query: sum(rate(http_server_request_duration_seconds_count[5m]))
    compare: "> 0"
  - name: server spans
    kind: span
    service: http-rest-api
    span_name: "GET /api/v1/products/{id}"
    span_kind: server
    attributes: { http.response.status_code: 200 }
  - name: stitched
    kind: trace_shape
    server: { service: http-rest-api, span_name_regex: "POST .*" }
    client: { span_name: "/inventory.v1.Inventory/Reserve" }
    remote: { service: grpc-microservice }
    min_share: 0.5
"#;

    #[test]
    fn a_spec_with_every_kind_loads() {
        let spec = parse_text(GOOD).unwrap();
        assert_eq!(spec.app, "http-rest-api");
        assert_eq!(spec.fault, None);
        assert_eq!(spec.expectations.len(), 3);
        let Check::Span(span) = &spec.expectations[1].check else {
            panic!("not a span check")
        };
        assert_eq!(span.selector.attributes["http.response.status_code"], "200");
        assert_eq!(span.window, DEFAULT_WINDOW);
        let Check::TraceShape(shape) = &spec.expectations[2].check else {
            panic!("not a shape check")
        };
        assert_eq!(shape.client.service, "http-rest-api");
        assert_eq!(shape.client.kind, Some(SpanKind::Client));
        assert!(shape.server.name.matches("POST /x"));
        assert!(!shape.server.name.matches("xPOST /x"));
    }

    #[test]
    fn the_fault_comes_from_the_file_name_when_the_spec_does_not_say() {
        let spec = parse(Path::new("d/http-rest-api-latency.yaml"), GOOD).unwrap();
        assert_eq!(spec.fault.as_deref(), Some("latency"));
    }

    #[test]
    fn an_unknown_field_is_named_with_its_path() {
        let text = GOOD.replace("compare: \"> 0\"", "compare: \"> 0\"\n    treshold: 3");
        let err = parse_text(&text).unwrap_err();
        assert_eq!(err.field, "expectations[0]", "{err}");
        assert!(err.message.contains("treshold"), "{err}");
        assert!(
            err.to_string()
                .starts_with("charts/x/telemetry/http-rest-api.yaml: ")
        );
    }

    #[test]
    fn a_bad_comparison_is_named() {
        let err = parse_text(&GOOD.replace("\"> 0\"", "\"=> 0\"")).unwrap_err();
        assert_eq!(err.field, "expectations[0].compare");
    }

    #[test]
    fn an_unknown_kind_is_named() {
        let err = parse_text(&GOOD.replace("kind: metric", "kind: metrics")).unwrap_err();
        assert!(err.field.starts_with("expectations[0]"), "{err}");
        assert!(err.message.contains("metrics"), "{err}");
    }

    #[test]
    fn a_bad_regex_is_named() {
        let err = parse_text(&GOOD.replace("POST .*", "POST (")).unwrap_err();
        assert_eq!(err.field, "expectations[2].server.span_name_regex");
    }

    #[test]
    fn duplicate_names_are_rejected() {
        let err = parse_text(&GOOD.replace("server spans", "requests are counted")).unwrap_err();
        assert_eq!(err.field, "expectations[1].name");
    }

    #[test]
    fn a_share_above_one_is_rejected() {
        let err = parse_text(&GOOD.replace("min_share: 0.5", "min_share: 50")).unwrap_err();
        assert_eq!(err.field, "expectations[2].min_share");
    }

    #[test]
    fn a_missing_field_is_reported() {
        let err =
            parse_text("app: x\nexpectations:\n  - name: a\n    kind: metric\n    query: up\n")
                .unwrap_err();
        assert!(err.message.contains("compare"), "{err}");
    }

    #[test]
    fn a_window_shorter_than_four_export_intervals_fails_the_lint() {
        // kafka-streaming-slow_consumer once used [1m]: one sample at OBI's default
        // 60 s interval, so rate() returned nothing and "< 5.5" passed on nothing.
        let err = parse_text(&GOOD.replace("[5m]", "[1m]")).unwrap_err();
        assert_eq!(err.field, "expectations[0].query", "{err}");
        assert!(
            err.message
                .contains("[1m] spans less than 4 export intervals"),
            "{err}"
        );
        assert!(err.message.contains("4m"), "{err}");
        // With OBI's interval at 15 s (values/obi.yaml), one minute is enough.
        let options = LoadOptions {
            export_interval: Duration::from_secs(15),
            ..LoadOptions::default()
        };
        let text = GOOD.replace("[5m]", "[1m]");
        parse_with(Path::new("x/http-rest-api.yaml"), &text, &options).unwrap();
    }

    #[test]
    fn hiding_no_data_behind_or_vector_fails_the_lint() {
        let text = GOOD.replace("[5m]))", "[5m])) or vector(0)");
        let err = parse_text(&text).unwrap_err();
        assert_eq!(err.field, "expectations[0].query", "{err}");
        assert!(err.message.contains("absent_ok"), "{err}");
    }

    const ABSENT: &str = r#"
app: http-rest-api
expectations:
  - name: server errors stay rare
    kind: metric
    query: sum(rate(http_server_request_duration_seconds_count{http_response_status_code=~"5.."}[5m]))
    ratio_to: sum(rate(http_server_request_duration_seconds_count[5m]))
    compare: "< 0.02"
    absent_ok: true
    unless_faults: [errors]
"#;

    #[test]
    fn absent_ok_needs_a_query_that_must_have_data_and_an_upper_bound() {
        let spec = parse_text(ABSENT).unwrap();
        let Check::Metric(metric) = &spec.expectations[0].check else {
            panic!("not a metric")
        };
        assert!(metric.absent_ok);
        assert_eq!(spec.expectations[0].unless_faults, ["errors"]);
        let without = ABSENT.replace(
            "    ratio_to: sum(rate(http_server_request_duration_seconds_count[5m]))\n",
            "",
        );
        let err = parse_text(&without).unwrap_err();
        assert_eq!(err.field, "expectations[0].absent_ok", "{err}");
        let companion = without.replace(
            "    absent_ok: true",
            "    absent_ok: true\n    companion: sum(rate(http_server_request_duration_seconds_count[5m]))",
        );
        parse_text(&companion).unwrap();
        let err = parse_text(&ABSENT.replace("\"< 0.02\"", "\"> 0\"")).unwrap_err();
        assert!(err.message.contains("lower"), "{err}");
    }

    #[test]
    fn a_fault_spec_cannot_skip_itself() {
        let err = parse(Path::new("d/http-rest-api-errors.yaml"), ABSENT).unwrap_err();
        assert_eq!(err.field, "expectations[0].unless_faults", "{err}");
    }

    #[test]
    fn fault_placeholders_are_filled_from_the_settings_or_reported_unresolved() {
        let text = GOOD
            .replace("[5m]))", "[5m])) / ${faults.errors.rate}")
            .replace(
                "http.response.status_code: 200",
                "http.response.status_code: \"${faults.errors.status}\"",
            );
        let spec = parse_text(&text).unwrap();
        assert_eq!(
            spec.unresolved,
            ["${faults.errors.rate}", "${faults.errors.status}"]
        );
        let options = LoadOptions {
            fault_settings: Some(serde_json::json!({"errors": {"rate": 0.1, "status": 503}})),
            ..LoadOptions::default()
        };
        let spec = parse_with(Path::new("x/http-rest-api.yaml"), &text, &options).unwrap();
        assert!(spec.unresolved.is_empty());
        let Check::Span(span) = &spec.expectations[1].check else {
            panic!("not a span check")
        };
        assert_eq!(span.selector.attributes["http.response.status_code"], "503");
        let options = LoadOptions {
            fault_settings: Some(serde_json::json!({})),
            ..LoadOptions::default()
        };
        let err = parse_with(Path::new("x/http-rest-api.yaml"), &text, &options).unwrap_err();
        assert_eq!(err.field, "(placeholders)");
    }

    #[test]
    fn a_root_span_check_parses() {
        let text = GOOD.replace("    min_count: 1\n", "").replace(
            "    attributes: { http.response.status_code: 200 }",
            "    attributes: { http.response.status_code: 200 }\n    root: true",
        );
        let spec = parse_text(&text).unwrap();
        let Check::Span(span) = &spec.expectations[1].check else {
            panic!("not a span check")
        };
        assert!(span.root);
    }

    #[test]
    fn a_bad_window_is_named() {
        let text = GOOD.replace("min_share: 0.5", "min_share: 0.5\n    window: soon");
        let err = parse_text(&text).unwrap_err();
        assert_eq!(err.field, "expectations[2].window");
    }
}
