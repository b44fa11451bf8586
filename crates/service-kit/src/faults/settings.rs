//! The `faults.*` settings: which faults are on, how often, and their ranges (checked
//! at start-up like every setting).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The `faults.*` configuration section, also the admin endpoint's document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultSettings {
    /// Honour `x-fault-*` request headers that carry the admin token in
    /// `x-fault-token` (off by default: a switch for tests and the k6 Job, never a
    /// public one).
    pub headers: bool,
    /// Longest delay an `x-fault-delay` header may ask for.
    #[serde(with = "humantime_serde")]
    pub max_header_delay: Duration,
    /// Added latency before a request is handled.
    pub latency: LatencyFault,
    /// Requests answered with an error status instead of being handled.
    pub errors: ErrorFault,
    /// App-specific scenarios by name, e.g. `n_plus_one: {enabled: true}`.
    #[serde(flatten)]
    pub scenarios: BTreeMap<String, ScenarioFault>,
}

impl Default for FaultSettings {
    fn default() -> Self {
        Self {
            headers: false,
            max_header_delay: Duration::from_secs(30),
            latency: LatencyFault::default(),
            errors: ErrorFault::default(),
            scenarios: BTreeMap::new(),
        }
    }
}

/// `faults.latency`: a fixed delay plus uniform jitter, on a share of requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LatencyFault {
    /// Whether the fault is on.
    pub enabled: bool,
    /// Fixed part of the delay.
    #[serde(with = "humantime_serde")]
    pub delay: Duration,
    /// Up to this much more, uniformly distributed.
    #[serde(with = "humantime_serde")]
    pub jitter: Duration,
    /// Share of requests affected, 0.0 to 1.0.
    pub rate: f64,
}

impl Default for LatencyFault {
    fn default() -> Self {
        Self {
            enabled: false,
            delay: Duration::from_millis(200),
            jitter: Duration::ZERO,
            rate: 1.0,
        }
    }
}

/// `faults.errors`: a share of requests answered with `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ErrorFault {
    /// Whether the fault is on.
    pub enabled: bool,
    /// Share of requests affected, 0.0 to 1.0.
    pub rate: f64,
    /// The HTTP status to answer with (4xx or 5xx; gRPC apps map it to a code).
    pub status: u16,
}

impl Default for ErrorFault {
    fn default() -> Self {
        Self {
            enabled: false,
            rate: 0.1,
            status: 500,
        }
    }
}

/// `faults.<scenario>`: an app-specific scenario, on a share of requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScenarioFault {
    /// Whether the scenario is on.
    pub enabled: bool,
    /// Share of requests (or messages) affected, 0.0 to 1.0.
    pub rate: f64,
}

impl Default for ScenarioFault {
    fn default() -> Self {
        Self {
            enabled: false,
            rate: 1.0,
        }
    }
}

impl crate::config::Validate for FaultSettings {
    fn validate(&self, check: &mut crate::config::Check) {
        let hour = Duration::from_secs(3600);
        check.duration(
            "faults.max_header_delay",
            self.max_header_delay,
            Duration::ZERO,
            hour,
        );
        check.duration(
            "faults.latency.delay",
            self.latency.delay,
            Duration::ZERO,
            hour,
        );
        check.duration(
            "faults.latency.jitter",
            self.latency.jitter,
            Duration::ZERO,
            hour,
        );
        check.share("faults.latency.rate", self.latency.rate);
        check.share("faults.errors.rate", self.errors.rate);
        check.range("faults.errors.status", self.errors.status, 400, 599);
        for (name, scenario) in &self.scenarios {
            check.share(&format!("faults.{name}.rate"), scenario.rate);
        }
    }
}
