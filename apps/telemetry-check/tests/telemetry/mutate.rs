//! Mutations that make one expectation fail: a wrong label value (or a burst of
//! matching data for upper bounds) for metric expectations, missing spans for
//! span and trace-shape expectations. Each reports what it touched, so that other
//! expectations reading the same data may fail too, and only those.

use regex::Regex;
use telemetry_check::spec::{Check, Expectation, SpanKind, SpanSelector};

use crate::fixture::{FSpan, Series, Telemetry};

#[derive(Debug, Clone, PartialEq)]
enum MOp {
    Eq,
    Ne,
    Re,
    NRe,
}

#[derive(Debug, Clone)]
struct Matcher {
    label: String,
    op: MOp,
    value: String,
}

/// One `name{label="value", ...}` of a PromQL query.
#[derive(Debug, Clone)]
pub struct Selector {
    name: String,
    matchers: Vec<Matcher>,
}

/// The vector selectors (with braces) of a query.
pub fn selectors(promql: &str) -> Vec<Selector> {
    let selector = Regex::new(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}").unwrap();
    let matcher =
        Regex::new(r#"([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)""#).unwrap();
    selector
        .captures_iter(promql)
        .map(|c| Selector {
            name: c[1].to_owned(),
            matchers: matcher
                .captures_iter(&c[2])
                .map(|m| Matcher {
                    label: m[1].to_owned(),
                    op: match &m[2] {
                        "=" => MOp::Eq,
                        "!=" => MOp::Ne,
                        "=~" => MOp::Re,
                        _ => MOp::NRe,
                    },
                    value: m[3].replace("\\\\", "\\"),
                })
                .collect(),
        })
        .collect()
}

impl Matcher {
    fn holds(&self, value: &str) -> bool {
        let re = || Regex::new(&format!("^(?:{})$", self.value)).expect("a valid PromQL regex");
        match self.op {
            MOp::Eq => value == self.value,
            MOp::Ne => value != self.value,
            MOp::Re => re().is_match(value),
            MOp::NRe => !re().is_match(value),
        }
    }
}

impl Selector {
    pub fn matches(&self, series: &Series) -> bool {
        let name_ok = if series.histogram {
            ["_bucket", "_sum", "_count"]
                .iter()
                .any(|suffix| self.name == format!("{}{suffix}", series.name))
        } else {
            self.name == series.name
        };
        name_ok
            && self.matchers.iter().filter(|m| m.label != "le").all(|m| {
                m.holds(
                    series
                        .labels
                        .get(&m.label)
                        .map(String::as_str)
                        .unwrap_or(""),
                )
            })
    }
}

/// What a mutation touched.
#[derive(Debug, Clone)]
pub enum Touched {
    Series(Vec<Series>),
    Spans(Vec<FSpan>),
}

/// A copy of `t` in which `expectation` must fail, and what changed.
pub fn mutate(
    t: &Telemetry,
    expectation: &Expectation,
) -> Result<(Telemetry, Touched, String), String> {
    match &expectation.check {
        Check::Metric(metric) => {
            let sels = selectors(&metric.query);
            if sels.is_empty() {
                return Err("its query has no `name{...}` selector to mutate".into());
            }
            let mut out = t.clone();
            let hit = |s: &Series| sels.iter().any(|sel| sel.matches(s));
            if metric.compare.is_lower_bound() {
                // Wrong label value: the last positive matcher's label gets another value.
                let touched: Vec<Series> = t.series.iter().filter(|s| hit(s)).cloned().collect();
                if touched.is_empty() {
                    return Err("its query matches no fixture series".into());
                }
                let label = sels
                    .iter()
                    .flat_map(|s| &s.matchers)
                    .rfind(|m| matches!(m.op, MOp::Eq | MOp::Re) && m.label != "le")
                    .map(|m| m.label.clone());
                for s in out.series.iter_mut().filter(|s| hit(s)) {
                    match &label {
                        Some(label) => {
                            s.labels.insert(label.clone(), "mutated-by-test".into());
                        }
                        None => s.name.push_str("_mutated_by_test"),
                    }
                }
                let how = match label {
                    Some(label) => format!("wrong {label} value on {} series", touched.len()),
                    None => format!("renamed {} series", touched.len()),
                };
                Ok((out, Touched::Series(touched), how))
            } else {
                // An upper bound fails on a burst: more and slower matching data.
                let mut touched: Vec<Series> = Vec::new();
                for s in out.series.iter_mut().filter(|s| hit(s)) {
                    s.per_second *= 1000.0;
                    s.typical *= 1000.0;
                    touched.push(s.clone());
                }
                if touched.is_empty() {
                    for sel in &sels {
                        if let Some(made) = synthesize(t, sel) {
                            touched.push(made.clone());
                            out.series.push(made);
                        }
                    }
                }
                if touched.is_empty() {
                    return Err("no fixture series resembles its query's selectors".into());
                }
                let how = format!("burst on {} series", touched.len());
                Ok((out, Touched::Series(touched), how))
            }
        }
        Check::Span(span) => {
            let (out, removed) = remove_spans(t, &|s, parent| {
                matches_span(&span.selector, s) && (!span.root || parent.is_none())
            });
            if removed.is_empty() {
                return Err("no fixture span matches it".into());
            }
            let how = format!("removed {} matching span templates", removed.len());
            Ok((out, Touched::Spans(removed), how))
        }
        Check::TraceShape(shape) => {
            let (out, removed) = remove_spans(t, &|s, parent| {
                matches_span(&shape.client, s)
                    && parent.is_some_and(|p| matches_span(&shape.server, p))
            });
            if removed.is_empty() {
                return Err("no fixture client span sits under a matching server span".into());
            }
            let how = format!("removed {} client span templates", removed.len());
            Ok((out, Touched::Spans(removed), how))
        }
    }
}

/// A series for a selector that matches nothing yet (an error status on normal
/// traffic), cloned from a series of the same metric and app.
fn synthesize(t: &Telemetry, sel: &Selector) -> Option<Series> {
    let template = t.series.iter().find(|s| {
        let probe = Selector {
            name: sel.name.clone(),
            matchers: sel
                .matchers
                .iter()
                .filter(|m| m.label == "service_name")
                .cloned()
                .collect(),
        };
        probe.matches(s)
    })?;
    let mut made = template.clone();
    for m in sel.matchers.iter().filter(|m| m.label != "le") {
        let current = made.labels.get(&m.label).cloned().unwrap_or_default();
        if m.holds(&current) {
            continue;
        }
        let mut candidates: Vec<String> = if m.op == MOp::Eq {
            vec![m.value.clone()]
        } else {
            alternatives(&m.value)
        };
        // A regex read as text: `/api/v1/products/\*.*` -> `/api/v1/products/*`.
        let literal = m
            .value
            .replace(".*", "")
            .replace(".+", "x")
            .replace('\\', "");
        candidates.extend(literal.split('|').map(str::to_owned));
        candidates.extend(
            [
                "500",
                "503",
                "INTERNAL",
                "UNAVAILABLE",
                "DEADLINE_EXCEEDED",
                "RESOURCE_EXHAUSTED",
                "error",
                "timeout",
                "ERR",
                "5xx",
            ]
            .map(String::from),
        );
        let value = candidates.into_iter().find(|c| m.holds(c))?;
        made.labels.insert(m.label.clone(), value);
    }
    made.per_second = 1000.0;
    made.typical *= 1000.0;
    Some(made)
}

/// The strings a simple regex spells out: top-level `a|b`, and one group
/// `prefix(a|b)suffix` each, with `\.` read as `.`.
fn alternatives(pattern: &str) -> Vec<String> {
    let pattern = pattern.trim_matches(|c| c == '^' || c == '$');
    let mut out = Vec::new();
    for top in split_top_level(pattern) {
        match (top.find('('), top.rfind(')')) {
            (Some(open), Some(close)) if open < close => {
                let (prefix, group, suffix) =
                    (&top[..open], &top[open + 1..close], &top[close + 1..]);
                out.extend(
                    group
                        .split('|')
                        .map(|alt| format!("{prefix}{alt}{suffix}").replace("\\.", ".")),
                );
            }
            _ => out.push(top.replace("\\.", ".")),
        }
    }
    out
}

/// `a|b(c|d)` → `a`, `b(c|d)`.
fn split_top_level(pattern: &str) -> Vec<&str> {
    let (mut depth, mut start, mut parts) = (0usize, 0, Vec::new());
    for (i, c) in pattern.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '|' if depth == 0 => {
                parts.push(&pattern[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&pattern[start..]);
    parts
}

pub fn matches_span(selector: &SpanSelector, span: &FSpan) -> bool {
    let kind = match span.kind {
        2 => Some(SpanKind::Server),
        3 => Some(SpanKind::Client),
        4 => Some(SpanKind::Producer),
        5 => Some(SpanKind::Consumer),
        _ => Some(SpanKind::Internal),
    };
    span.service == selector.service
        && selector.name.matches(&span.name)
        && selector.kind.is_none_or(|k| kind == Some(k))
        && selector
            .attributes
            .iter()
            .all(|(k, v)| span.attr(k).as_deref() == Some(v.as_str()))
}

/// Removes spans matching `pred(span, parent)`; their children move up to the
/// parent (or become roots), so nothing else disappears.
fn remove_spans(
    t: &Telemetry,
    pred: &dyn Fn(&FSpan, Option<&FSpan>) -> bool,
) -> (Telemetry, Vec<FSpan>) {
    fn walk(
        spans: Vec<FSpan>,
        parent: Option<&FSpan>,
        pred: &dyn Fn(&FSpan, Option<&FSpan>) -> bool,
        removed: &mut Vec<FSpan>,
    ) -> Vec<FSpan> {
        let mut kept = Vec::new();
        for mut span in spans {
            let children = std::mem::take(&mut span.children);
            if pred(&span, parent) {
                removed.push(span.clone());
                kept.extend(walk(children, parent, pred, removed));
            } else {
                span.children = walk(children, Some(&span), pred, removed);
                kept.push(span);
            }
        }
        kept
    }
    let mut removed = Vec::new();
    let mut out = t.clone();
    out.traces = walk(t.traces.clone(), None, pred, &mut removed);
    (out, removed)
}

/// Whether `other` reads data that the mutation touched (then it may fail too).
pub fn depends_on(other: &Expectation, touched: &Touched) -> bool {
    match (&other.check, touched) {
        (Check::Metric(metric), Touched::Series(series)) => {
            let mut sels = selectors(&metric.query);
            for other in [&metric.ratio_to, &metric.companion].into_iter().flatten() {
                sels.extend(selectors(other));
            }
            series.iter().any(|s| sels.iter().any(|sel| sel.matches(s)))
        }
        (Check::Span(span), Touched::Spans(spans)) => {
            spans.iter().any(|s| matches_span(&span.selector, s))
        }
        (Check::TraceShape(shape), Touched::Spans(spans)) => spans.iter().any(|s| {
            matches_span(&shape.server, s)
                || matches_span(&shape.client, s)
                || shape.remote.as_ref().is_some_and(|r| matches_span(r, s))
        }),
        _ => false,
    }
}
