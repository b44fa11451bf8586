//! One try at one expectation against its backend: what was observed, whether it
//! passed, and the query that observed it. A metric query without series is
//! "no data" (a failure naming the query) unless the spec allows it.

use crate::backend::BackendError;
use crate::prometheus::{Prometheus, Sample};
use crate::spans;
use crate::spec::{MetricCheck, ShapeCheck, SpanCheck};
use crate::traces::{Traces, Window};

/// One try at an expectation.
#[derive(Debug)]
pub struct Attempt {
    pub passed: bool,
    pub observed: String,
    pub query: String,
    pub error: Option<BackendError>,
}

impl Attempt {
    fn failed(query: String, error: BackendError) -> Self {
        Attempt {
            passed: false,
            observed: error.to_string(),
            query,
            error: Some(error),
        }
    }

    /// A query that returned no series: it fails (and is retried: data may come).
    fn no_data(shown: String, which: &str, query: &str) -> Self {
        Attempt {
            passed: false,
            observed: format!("no data: {which} returned no series: {query}"),
            query: shown,
            error: None,
        }
    }
}

/// `${namespace}` in a query becomes the configured namespace.
pub fn expand(query: &str, namespace: Option<&str>) -> Result<String, String> {
    let expanded = match namespace {
        Some(namespace) => query.replace("${namespace}", namespace),
        None if query.contains("${namespace}") => {
            return Err(
                "the query uses ${namespace} but no namespace was given (TELEMETRY_CHECK_NAMESPACE)"
                    .into(),
            );
        }
        None => query.to_owned(),
    };
    if crate::placeholders::has_any(&expanded) {
        return Err(
            "the query holds an unresolved ${faults.*} placeholder: give the chart's fault \
             settings (TELEMETRY_CHECK_FAULT_SETTINGS)"
                .into(),
        );
    }
    Ok(expanded)
}

pub async fn metric(
    prometheus: &Prometheus,
    metric: &MetricCheck,
    namespace: Option<&str>,
) -> Attempt {
    let mut shown = match &metric.ratio_to {
        Some(ratio_to) => format!("({}) / ({})", metric.query, ratio_to),
        None => metric.query.clone(),
    };
    if let Some(companion) = &metric.companion {
        shown.push_str(&format!(" | companion: {companion}"));
    }
    let run = |query: String| async move {
        let expanded = expand(&query, namespace).map_err(|message| BackendError::Rejected {
            url: prometheus.base().to_owned(),
            message,
        })?;
        prometheus.query_sum(&expanded).await
    };
    let numerator: Sample = match run(metric.query.clone()).await {
        Ok(sample) => sample,
        Err(err) => return Attempt::failed(shown, err),
    };
    if numerator.series == 0 && !metric.absent_ok {
        return Attempt::no_data(shown, "query", &metric.query);
    }
    if let Some(companion) = &metric.companion {
        match run(companion.clone()).await {
            Ok(sample) if sample.series == 0 => {
                return Attempt::no_data(shown, "companion", companion);
            }
            Ok(_) => {}
            Err(err) => return Attempt::failed(shown, err),
        }
    }
    let absent = if numerator.series == 0 {
        " (no series: allowed by absent_ok)"
    } else {
        ""
    };
    let (value, observed) = match &metric.ratio_to {
        None => (
            numerator.value,
            format!(
                "{} ({} series){absent}",
                number(numerator.value),
                numerator.series
            ),
        ),
        Some(ratio_to) => {
            let denominator = match run(ratio_to.clone()).await {
                Ok(sample) => sample,
                Err(err) => return Attempt::failed(shown, err),
            };
            if denominator.series == 0 {
                return Attempt::no_data(shown, "ratio_to", ratio_to);
            }
            let value = if denominator.value == 0.0 {
                f64::NAN
            } else {
                numerator.value / denominator.value
            };
            (
                value,
                format!(
                    "{} = {} / {} ({} / {} series){absent}",
                    number(value),
                    number(numerator.value),
                    number(denominator.value),
                    numerator.series,
                    denominator.series
                ),
            )
        }
    };
    Attempt {
        passed: metric.compare.holds(value),
        observed: format!("observed {observed}, expected {}", metric.compare),
        query: shown,
        error: None,
    }
}

pub async fn span(traces: &Traces, span: &SpanCheck) -> Attempt {
    let window = Window::last(span.window);
    let found = if span.root {
        // Whether a span has a parent is only known from whole traces.
        traces
            .traces_with(&span.selector, window)
            .await
            .map(|(spans, query)| {
                (
                    spans::count_roots(&span.selector, &spans),
                    format!("{query} | root spans only"),
                )
            })
    } else {
        traces.count_spans(&span.selector, window).await
    };
    let what = if span.root { "root spans" } else { "spans" };
    match found {
        Ok((count, query)) => Attempt {
            passed: count >= span.min_count,
            observed: format!(
                "observed {count} {what} in the last {}, expected >= {}",
                humantime::format_duration(span.window),
                span.min_count
            ),
            query,
            error: None,
        },
        Err(err) => Attempt::failed(format!("{} {}", traces.kind(), span.selector), err),
    }
}

pub async fn shape(traces: &Traces, shape: &ShapeCheck) -> Attempt {
    match traces
        .traces_with(&shape.server, Window::last(shape.window))
        .await
    {
        Ok((found, query)) => {
            let result = spans::evaluate_shape(shape, &found);
            let remote = shape
                .remote
                .as_ref()
                .map(|r| format!(" -> SERVER {r}"))
                .unwrap_or_default();
            Attempt {
                passed: result.passes(shape),
                observed: format!(
                    "stitched {}/{} traces ({:.1}%), expected >= {:.1}% of >= {} traces",
                    result.stitched,
                    result.traces,
                    result.share() * 100.0,
                    shape.min_share * 100.0,
                    shape.min_traces
                ),
                query: format!(
                    "{query} | shape: SERVER {} -> >= {} CLIENT {}{remote}",
                    shape.server, shape.min_children, shape.client
                ),
                error: None,
            }
        }
        Err(err) => Attempt::failed(format!("{} {}", traces.kind(), shape.server), err),
    }
}

fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value == value.trunc() && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_namespace_placeholder_is_filled_or_refused() {
        assert_eq!(
            expand("up{ns=\"${namespace}\"}", Some("demo")).unwrap(),
            "up{ns=\"demo\"}"
        );
        assert_eq!(expand("up", None).unwrap(), "up");
        assert!(
            expand("up{ns=\"${namespace}\"}", None)
                .unwrap_err()
                .contains("TELEMETRY_CHECK_NAMESPACE")
        );
    }

    #[test]
    fn an_unresolved_fault_placeholder_is_refused() {
        let err = expand("x{code=\"${faults.errors.status}\"}", Some("demo")).unwrap_err();
        assert!(err.contains("TELEMETRY_CHECK_FAULT_SETTINGS"), "{err}");
    }

    #[test]
    fn numbers_print_short() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.123456), "0.1235");
        assert_eq!(number(f64::NAN), "NaN");
    }
}
