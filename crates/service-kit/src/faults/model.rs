//! Fault settings, their validation, and the shared runtime state that decides,
//! request by request, which faults apply.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use poem::http::StatusCode;
use serde::Serialize;

use super::settings::FaultSettings;

/// The scenarios an app can play, beyond the common `latency` and `errors`.
pub type Catalog = &'static [ScenarioInfo];

/// One app-specific scenario: its name (the config key) and what it does.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ScenarioInfo {
    /// Config key and header value, e.g. `n_plus_one`.
    pub name: &'static str,
    /// One sentence on what the scenario does and what OBI should show.
    pub description: &'static str,
}

/// A fault setting that cannot be applied. Names the key at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    /// A scenario name that the app's catalog does not list.
    #[error("unknown fault `faults.{name}`; this app knows: {known}")]
    UnknownFault {
        /// The name given.
        name: String,
        /// The names the app knows, comma-separated.
        known: String,
    },
    /// A value out of its range.
    #[error("invalid value for `faults.{key}`: {reason}")]
    Invalid {
        /// The dotted key below `faults.`, e.g. `errors.rate`.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// What the fault model decided for one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    /// Sleep this long before handling.
    pub delay: Option<Duration>,
    /// Answer with this status instead of handling.
    pub error: Option<StatusCode>,
    /// App-specific scenarios active for this request.
    pub scenarios: BTreeSet<String>,
}

impl Decision {
    /// Whether the scenario `name` applies to this request.
    pub fn is_active(&self, name: &str) -> bool {
        self.scenarios.contains(name)
    }
}

/// The shared, runtime-switchable fault state of an app. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Faults {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    catalog: Catalog,
    configured: FaultSettings,
    current: RwLock<FaultSettings>,
    header_token: OnceLock<String>,
}

impl Faults {
    /// Validates `settings` against the app's `catalog` and makes them current.
    pub fn new(settings: FaultSettings, catalog: Catalog) -> Result<Self, FaultError> {
        validate(&settings, catalog)?;
        Ok(Self {
            inner: Arc::new(Inner {
                catalog,
                current: RwLock::new(settings.clone()),
                configured: settings,
                header_token: OnceLock::new(),
            }),
        })
    }

    /// The app's scenarios.
    pub fn catalog(&self) -> Catalog {
        self.inner.catalog
    }

    /// The settings in force now.
    pub fn current(&self) -> FaultSettings {
        self.read().clone()
    }

    /// Replaces the settings in force, after validating them.
    pub fn replace(&self, settings: FaultSettings) -> Result<(), FaultError> {
        validate(&settings, self.inner.catalog)?;
        *self.write() = settings;
        Ok(())
    }

    /// Returns to the configured settings.
    pub fn reset(&self) {
        *self.write() = self.inner.configured.clone();
    }

    /// Decides the faults for one request from the settings in force, plus what the
    /// request's headers asked for (already parsed, see [`super::headers`]).
    pub fn decide(&self, requested: Decision) -> Decision {
        let settings = self.read();
        let mut decision = requested;
        if decision.delay.is_none() && settings.latency.enabled && roll(settings.latency.rate) {
            let jitter = settings.latency.jitter.mul_f64(fastrand::f64());
            decision.delay = Some(settings.latency.delay + jitter);
        }
        if decision.error.is_none() && settings.errors.enabled && roll(settings.errors.rate) {
            decision.error = StatusCode::from_u16(settings.errors.status).ok();
        }
        for (name, scenario) in &settings.scenarios {
            if scenario.enabled && roll(scenario.rate) {
                decision.scenarios.insert(name.clone());
            }
        }
        decision
    }

    /// Whether scenario `name` fires now, for work outside a request (a consumer loop).
    pub fn roll(&self, name: &str) -> bool {
        let settings = self.read();
        settings
            .scenarios
            .get(name)
            .is_some_and(|scenario| scenario.enabled && roll(scenario.rate))
    }

    /// Whether `x-fault-*` headers are honoured.
    pub fn headers_enabled(&self) -> bool {
        self.read().headers
    }

    /// Fault headers are honoured only with `token` in `x-fault-token` (the admin
    /// token; set once, by the app's builder). Without it, or with an empty one, no
    /// request can ask for a fault.
    pub fn require_header_token(&self, token: &str) {
        let _ = self.inner.header_token.set(token.to_owned());
    }

    /// Whether `given` is the token fault headers need (compared in constant time).
    pub fn header_token_matches(&self, given: &str) -> bool {
        self.inner.header_token.get().is_some_and(|token| {
            !token.is_empty() && constant_time_eq(token.as_bytes(), given.as_bytes())
        })
    }

    /// Longest delay a header may ask for.
    pub fn max_header_delay(&self) -> Duration {
        self.read().max_header_delay
    }

    /// Whether `name` is one of the app's scenarios.
    pub fn knows(&self, name: &str) -> bool {
        self.inner.catalog.iter().any(|info| info.name == name)
    }

    /// The app's scenario names, comma-separated, for error messages.
    pub fn known_names(&self) -> String {
        known_names(self.inner.catalog)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, FaultSettings> {
        // A panic while holding the lock cannot leave settings half-written (we only
        // ever assign whole values), so a poisoned lock is still consistent.
        self.inner.current.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, FaultSettings> {
        self.inner
            .current
            .write()
            .unwrap_or_else(|p| p.into_inner())
    }
}

/// Compares without an early exit, so response timing does not leak a token.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn roll(rate: f64) -> bool {
    rate >= 1.0 || fastrand::f64() < rate
}

fn known_names(catalog: Catalog) -> String {
    let mut names = vec!["latency", "errors"];
    names.extend(catalog.iter().map(|info| info.name));
    names.join(", ")
}

fn validate(settings: &FaultSettings, catalog: Catalog) -> Result<(), FaultError> {
    check_rate("latency.rate", settings.latency.rate)?;
    check_rate("errors.rate", settings.errors.rate)?;
    if !(400..=599).contains(&settings.errors.status) {
        return Err(FaultError::Invalid {
            key: "errors.status".into(),
            reason: format!("{} is not a 4xx or 5xx status", settings.errors.status),
        });
    }
    for (name, scenario) in &settings.scenarios {
        if !catalog.iter().any(|info| info.name == name) {
            return Err(FaultError::UnknownFault {
                name: name.clone(),
                known: known_names(catalog),
            });
        }
        check_rate(&format!("{name}.rate"), scenario.rate)?;
    }
    Ok(())
}

fn check_rate(key: &str, rate: f64) -> Result<(), FaultError> {
    if (0.0..=1.0).contains(&rate) {
        Ok(())
    } else {
        Err(FaultError::Invalid {
            key: key.into(),
            reason: format!("{rate} is not between 0.0 and 1.0"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::{ErrorFault, LatencyFault, ScenarioFault};

    const CATALOG: Catalog = &[ScenarioInfo {
        name: "n_plus_one",
        description: "lists load items one query per order",
    }];

    fn scenario(enabled: bool, rate: f64) -> ScenarioFault {
        ScenarioFault { enabled, rate }
    }

    #[test]
    fn nothing_is_decided_when_every_fault_is_off() {
        let faults = Faults::new(FaultSettings::default(), CATALOG).unwrap();
        assert_eq!(faults.decide(Decision::default()), Decision::default());
    }

    #[test]
    fn configured_faults_apply_at_full_rate() {
        let mut settings = FaultSettings {
            latency: LatencyFault {
                enabled: true,
                delay: Duration::from_millis(50),
                jitter: Duration::from_millis(10),
                rate: 1.0,
            },
            errors: ErrorFault {
                enabled: true,
                rate: 1.0,
                status: 503,
            },
            ..FaultSettings::default()
        };
        settings
            .scenarios
            .insert("n_plus_one".into(), scenario(true, 1.0));
        let decision = Faults::new(settings, CATALOG)
            .unwrap()
            .decide(Decision::default());

        let delay = decision.delay.unwrap();
        assert!(delay >= Duration::from_millis(50) && delay <= Duration::from_millis(60));
        assert_eq!(decision.error, Some(StatusCode::SERVICE_UNAVAILABLE));
        assert!(decision.is_active("n_plus_one"));
    }

    #[test]
    fn a_zero_rate_never_fires() {
        let settings = FaultSettings {
            errors: ErrorFault {
                enabled: true,
                rate: 0.0,
                status: 500,
            },
            ..FaultSettings::default()
        };
        let faults = Faults::new(settings, CATALOG).unwrap();
        assert!((0..1000).all(|_| faults.decide(Decision::default()).error.is_none()));
    }

    #[test]
    fn a_partial_rate_fires_about_that_often() {
        let mut settings = FaultSettings::default();
        settings
            .scenarios
            .insert("n_plus_one".into(), scenario(true, 0.3));
        let faults = Faults::new(settings, CATALOG).unwrap();
        let fired = (0..10_000).filter(|_| faults.roll("n_plus_one")).count();
        assert!((2_500..3_500).contains(&fired), "fired {fired} of 10000");
    }

    #[test]
    fn what_the_request_asked_for_wins_over_configuration() {
        let settings = FaultSettings {
            errors: ErrorFault {
                enabled: true,
                rate: 1.0,
                status: 500,
            },
            ..FaultSettings::default()
        };
        let faults = Faults::new(settings, CATALOG).unwrap();
        let requested = Decision {
            error: Some(StatusCode::BAD_GATEWAY),
            ..Decision::default()
        };
        assert_eq!(
            faults.decide(requested).error,
            Some(StatusCode::BAD_GATEWAY)
        );
    }

    #[test]
    fn an_unknown_scenario_is_rejected_naming_it_and_the_known_ones() {
        let mut settings = FaultSettings::default();
        settings
            .scenarios
            .insert("n_plus_on".into(), scenario(true, 1.0));
        let message = Faults::new(settings, CATALOG).unwrap_err().to_string();
        assert!(message.contains("faults.n_plus_on"), "{message}");
        assert!(message.contains("latency, errors, n_plus_one"), "{message}");
    }

    #[test]
    fn out_of_range_values_are_rejected_naming_the_key() {
        let mut settings = FaultSettings::default();
        settings.errors.rate = 1.5;
        let message = Faults::new(settings.clone(), CATALOG)
            .unwrap_err()
            .to_string();
        assert!(message.contains("faults.errors.rate"), "{message}");

        settings.errors.rate = 0.5;
        settings.errors.status = 200;
        let message = Faults::new(settings, CATALOG).unwrap_err().to_string();
        assert!(message.contains("faults.errors.status"), "{message}");
    }

    #[test]
    fn runtime_changes_apply_and_reset_returns_to_configuration() {
        let faults = Faults::new(FaultSettings::default(), CATALOG).unwrap();
        let mut changed = faults.current();
        changed
            .scenarios
            .insert("n_plus_one".into(), scenario(true, 1.0));
        faults.replace(changed).unwrap();
        assert!(faults.roll("n_plus_one"));

        faults.reset();
        assert!(!faults.roll("n_plus_one"));
        assert_eq!(faults.current(), FaultSettings::default());
    }

    #[test]
    fn an_invalid_runtime_change_leaves_the_settings_in_force() {
        let faults = Faults::new(FaultSettings::default(), CATALOG).unwrap();
        let mut bad = faults.current();
        bad.latency.rate = -1.0;
        assert!(faults.replace(bad).is_err());
        assert_eq!(faults.current(), FaultSettings::default());
    }
}
