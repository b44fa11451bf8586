//! The per-request switch: `x-fault-delay`, `x-fault-error` and `x-fault-scenario`
//! headers, parsed into what a request asks of the fault model.
//!
//! A fault header is a way to make the app slow or fail, so it is not for anyone:
//! with `faults.headers` on, a request that carries one must also carry the admin
//! token in `x-fault-token` (the k6 Job of the charts gets it from the app's Secret),
//! or it is refused with 403; with `faults.headers` off they are ignored.

use std::time::Duration;

use poem::http::{HeaderMap, StatusCode};

use super::{Decision, Faults};

/// Delays this request: `250ms`, `2s`, or a bare number of milliseconds.
pub const DELAY: &str = "x-fault-delay";
/// Answers this request with the given 4xx or 5xx status.
pub const ERROR: &str = "x-fault-error";
/// Activates app scenarios for this request: `n_plus_one` or `a,b`.
pub const SCENARIO: &str = "x-fault-scenario";
/// The admin token, which every request with a fault header must carry.
pub const TOKEN: &str = "x-fault-token";

/// A fault header the client got wrong (400) or may not send (403), naming the header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct HeaderError {
    /// The header's name.
    pub header: &'static str,
    /// What is wrong with its value.
    pub reason: String,
    /// Whether the request lacks the token rather than having a bad value.
    pub forbidden: bool,
}

impl HeaderError {
    fn invalid(header: &'static str, reason: impl Into<String>) -> Self {
        Self {
            header,
            reason: reason.into(),
            forbidden: false,
        }
    }

    fn describe(&self) -> String {
        if self.forbidden {
            self.reason.clone()
        } else {
            format!("invalid `{}` header: {}", self.header, self.reason)
        }
    }
}

/// Reads the fault headers of a request. With the header switch off, they are
/// ignored; with it on, they need the admin token in `x-fault-token`.
pub fn parse(headers: &HeaderMap, faults: &Faults) -> Result<Decision, HeaderError> {
    let mut decision = Decision::default();
    if !faults.headers_enabled()
        || ![DELAY, ERROR, SCENARIO]
            .iter()
            .any(|h| headers.contains_key(*h))
    {
        return Ok(decision);
    }
    let token = headers.get(TOKEN).and_then(|value| value.to_str().ok());
    if !token.is_some_and(|token| faults.header_token_matches(token)) {
        return Err(HeaderError {
            header: TOKEN,
            reason: format!(
                "fault headers need the admin token in `{TOKEN}`{}",
                if token.is_some() {
                    "; this is not it"
                } else {
                    ""
                }
            ),
            forbidden: true,
        });
    }
    if let Some(value) = text(headers, DELAY)? {
        let delay = parse_delay(value).ok_or_else(|| {
            HeaderError::invalid(
                DELAY,
                format!("`{value}` is not a duration like `250ms` or `2s`"),
            )
        })?;
        let max = faults.max_header_delay();
        if delay > max {
            return Err(HeaderError::invalid(
                DELAY,
                format!(
                    "{} is longer than the allowed {}",
                    humantime::format_duration(delay),
                    humantime::format_duration(max)
                ),
            ));
        }
        decision.delay = Some(delay);
    }
    if let Some(value) = text(headers, ERROR)? {
        let status = value
            .parse::<u16>()
            .ok()
            .filter(|code| (400..=599).contains(code))
            .and_then(|code| StatusCode::from_u16(code).ok())
            .ok_or_else(|| {
                HeaderError::invalid(ERROR, format!("`{value}` is not a 4xx or 5xx status code"))
            })?;
        decision.error = Some(status);
    }
    if let Some(value) = text(headers, SCENARIO)? {
        for name in value
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
        {
            if !faults.knows(name) {
                return Err(HeaderError::invalid(
                    SCENARIO,
                    format!(
                        "unknown scenario `{name}`; this app knows: {}",
                        faults
                            .catalog()
                            .iter()
                            .map(|info| info.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            decision.scenarios.insert(name.to_owned());
        }
    }
    Ok(decision)
}

fn text<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<Option<&'a str>, HeaderError> {
    headers
        .get(name)
        .map(|value| {
            value
                .to_str()
                .map(str::trim)
                .map_err(|_| HeaderError::invalid(name, "the value is not visible ASCII"))
        })
        .transpose()
}

fn parse_delay(value: &str) -> Option<Duration> {
    match value.parse::<u64>() {
        Ok(millis) => Some(Duration::from_millis(millis)),
        Err(_) => humantime::parse_duration(value).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::{Catalog, FaultSettings, ScenarioInfo};

    const CATALOG: Catalog = &[
        ScenarioInfo {
            name: "n_plus_one",
            description: "",
        },
        ScenarioInfo {
            name: "slow_query",
            description: "",
        },
    ];

    fn faults(headers_on: bool) -> Faults {
        let settings = FaultSettings {
            headers: headers_on,
            ..FaultSettings::default()
        };
        let faults = Faults::new(settings, CATALOG).unwrap();
        faults.require_header_token("admin");
        faults
    }

    /// Headers with the admin token.
    fn request(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = anonymous(pairs);
        map.insert(TOKEN, "admin".parse().unwrap());
        map
    }

    fn anonymous(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn fault_headers_without_the_admin_token_are_refused() {
        for headers in [
            anonymous(&[(ERROR, "503")]),
            anonymous(&[(DELAY, "30s"), (TOKEN, "guess")]),
            anonymous(&[(SCENARIO, "slow_query"), (TOKEN, "")]),
        ] {
            let err = parse(&headers, &faults(true)).unwrap_err();
            assert!(err.forbidden, "{err}");
            assert_eq!(err.header, TOKEN);
        }
        // The token alone asks for nothing, and no token is the token of an app without one.
        assert_eq!(
            parse(&anonymous(&[(TOKEN, "x")]), &faults(true)).unwrap(),
            Decision::default()
        );
        let tokenless = Faults::new(
            FaultSettings {
                headers: true,
                ..FaultSettings::default()
            },
            CATALOG,
        )
        .unwrap();
        tokenless.require_header_token("");
        let headers = anonymous(&[(ERROR, "503"), (TOKEN, "")]);
        assert!(parse(&headers, &tokenless).unwrap_err().forbidden);
    }

    #[test]
    fn no_headers_ask_for_nothing() {
        assert_eq!(
            parse(&HeaderMap::new(), &faults(true)).unwrap(),
            Decision::default()
        );
    }

    #[test]
    fn every_header_is_read() {
        let decision = parse(
            &request(&[
                (DELAY, "250ms"),
                (ERROR, "503"),
                (SCENARIO, "n_plus_one, slow_query"),
            ]),
            &faults(true),
        )
        .unwrap();
        assert_eq!(decision.delay, Some(Duration::from_millis(250)));
        assert_eq!(decision.error, Some(StatusCode::SERVICE_UNAVAILABLE));
        assert!(decision.is_active("n_plus_one") && decision.is_active("slow_query"));
    }

    #[test]
    fn a_bare_number_is_milliseconds() {
        let decision = parse(&request(&[(DELAY, "40")]), &faults(true)).unwrap();
        assert_eq!(decision.delay, Some(Duration::from_millis(40)));
    }

    #[test]
    fn headers_are_ignored_when_the_switch_is_off() {
        let decision = parse(
            &request(&[(ERROR, "500"), (DELAY, "nonsense")]),
            &faults(false),
        );
        assert_eq!(decision.unwrap(), Decision::default());
    }

    #[test]
    fn bad_values_name_the_header() {
        let cases = [
            (DELAY, "soon"),
            (DELAY, "1h"),
            (ERROR, "200"),
            (ERROR, "abc"),
            (SCENARIO, "n_plus_two"),
        ];
        for (header, value) in cases {
            let err = parse(&request(&[(header, value)]), &faults(true)).unwrap_err();
            assert_eq!(err.header, header, "{value}");
            assert!(err.to_string().contains(header), "{err}");
        }
    }
}
