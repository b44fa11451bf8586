//! What the spec lint needs to know about a PromQL query without a PromQL parser:
//! its range windows (`[5m]`, `[10m:30s]`) and whether it hides "no data"
//! (`... or vector(0)`). String literals are skipped, so a label regex such as
//! `=~"[a-z]+"` is never taken for a window.

use std::time::Duration;

use regex::Regex;

/// Every range window of `query` as written, with its length (`None` when the
/// text between the brackets is not a Prometheus duration).
pub fn windows(query: &str) -> Vec<(String, Option<Duration>)> {
    let code = without_strings(query);
    let mut out = Vec::new();
    let mut rest = code.as_str();
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else { break };
        let inside = after[..close].trim();
        // A subquery `[range:resolution]`: the range is what spans the samples.
        let range = inside.split(':').next().unwrap_or_default().trim();
        out.push((format!("[{inside}]"), duration(range)));
        rest = &after[close + 1..];
    }
    out
}

/// Whether the query turns "no data" into a number (`or vector(0)`,
/// `or on() vector(1)`), which would let a check pass on nothing.
pub fn hides_no_data(query: &str) -> bool {
    let code = without_strings(query);
    Regex::new(r"(?i)\bor\b\s*(?:on\s*\([^)]*\)\s*)?(?:vector|scalar)\s*\(")
        .expect("a valid regex")
        .is_match(&code)
}

/// A Prometheus duration: `5m`, `90s`, `1h30m`, `500ms`.
pub fn duration(text: &str) -> Option<Duration> {
    let re = Regex::new(r"^(?:(\d+)(ms|s|m|h|d|w|y))+$").expect("a valid regex");
    if !re.is_match(text) {
        return None;
    }
    let part = Regex::new(r"(\d+)(ms|s|m|h|d|w|y)").expect("a valid regex");
    let mut total = Duration::ZERO;
    for caps in part.captures_iter(text) {
        let amount: u64 = caps[1].parse().ok()?;
        let unit = match &caps[2] {
            "ms" => Duration::from_millis(1),
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            "d" => Duration::from_secs(86_400),
            "w" => Duration::from_secs(7 * 86_400),
            _ => Duration::from_secs(365 * 86_400),
        };
        total += unit.checked_mul(u32::try_from(amount).ok()?)?;
    }
    Some(total)
}

/// The query with the contents of its string literals (`"..."`, `'...'`,
/// `` `...` ``) blanked out; quotes and length are kept.
fn without_strings(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in query.chars() {
        match quote {
            None => {
                if matches!(c, '"' | '\'' | '`') {
                    quote = Some(c);
                }
                out.push(c);
            }
            Some(q) => {
                if escaped {
                    escaped = false;
                    out.push(' ');
                } else if c == '\\' && q != '`' {
                    escaped = true;
                    out.push(' ');
                } else if c == q {
                    quote = None;
                    out.push(c);
                } else {
                    out.push(' ');
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_found_outside_strings_and_subqueries_count_their_range() {
        let query = r#"max_over_time(sum(rate(x{route=~"/a/[0-9]+", l="]"}[5m]))[10m:30s]) / sum(rate(y[1h30m]))"#;
        assert_eq!(
            windows(query),
            vec![
                ("[5m]".to_owned(), Some(Duration::from_secs(300))),
                ("[10m:30s]".to_owned(), Some(Duration::from_secs(600))),
                ("[1h30m]".to_owned(), Some(Duration::from_secs(5400))),
            ]
        );
        assert_eq!(windows("rate(x[$__rate_interval])")[0].1, None);
        assert!(windows("up").is_empty());
    }

    #[test]
    fn or_vector_hides_no_data_but_a_string_saying_so_does_not() {
        assert!(hides_no_data("sum(rate(x[5m])) or vector(0)"));
        assert!(hides_no_data("sum(rate(x[5m])) OR on() vector(0)"));
        assert!(!hides_no_data(r#"sum(rate(x{a="or vector(0)"}[5m]))"#));
        assert!(!hides_no_data("sum(rate(x[5m])) or sum(rate(y[5m]))"));
    }

    #[test]
    fn durations_parse_like_prometheus() {
        assert_eq!(duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(duration("5"), None);
        assert_eq!(duration("soon"), None);
    }
}
