//! Loading: spec files read, validated into [`Spec`](super::Spec)s and linted,
//! with errors that name the file and the field.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::Regex;

use super::raw::{RawExpectation, RawSelector, RawSpec};
use super::{
    Check, DEFAULT_WINDOW, Expectation, INTERVALS_PER_WINDOW, LoadOptions, MetricCheck, NameMatch,
    ShapeCheck, SpanCheck, SpanKind, SpanSelector, Spec, SpecError,
};
use crate::compare::Comparison;
use crate::{placeholders, promql};

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
