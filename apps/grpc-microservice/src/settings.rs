//! The app's configuration: the kit's sections plus `grpc` and `inventory`, with
//! built-in defaults.

use std::time::Duration;

use serde::Deserialize;
use service_kit::config::{Check, ServerSettings, Validate};
use service_kit::faults::FaultSettings;
use service_kit::faults::admin::AdminSettings;

/// The built-in defaults: every key the app reads, documented.
pub const DEFAULTS: &str = include_str!("../config/default.yaml");

/// Everything the app is configured with.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Listener and drain.
    pub server: ServerSettings,
    /// The fault model's initial state.
    pub faults: FaultSettings,
    /// The `/admin/faults` token.
    pub admin: AdminSettings,
    /// Server-wide gRPC limits.
    pub grpc: GrpcSettings,
    /// The in-memory inventory.
    pub inventory: InventorySettings,
}

impl Settings {
    /// The built-in defaults alone (tests start from them).
    pub fn defaults() -> Self {
        service_kit::config::load_from(DEFAULTS, None, Vec::new())
            .unwrap_or_else(|err| panic!("the built-in defaults must load: {err}"))
    }
}

/// `grpc.*`.
#[derive(Debug, Clone, Deserialize)]
pub struct GrpcSettings {
    /// Inventory RPCs in flight at once before RESOURCE_EXHAUSTED.
    pub max_in_flight: usize,
    /// Extra time of each inventory RPC under `faults.deadline_storm`.
    #[serde(with = "humantime_serde")]
    pub storm_delay: Duration,
    /// How long before the caller's `grpc-timeout` passes the server answers
    /// DEADLINE_EXCEEDED (at most half the timeout), so that the answer is on the
    /// wire before the caller gives up and cancels the stream.
    #[serde(with = "humantime_serde")]
    pub deadline_margin: Duration,
}

/// `inventory.*`.
#[derive(Debug, Clone, Deserialize)]
pub struct InventorySettings {
    /// SKUs created at start-up.
    pub seed_skus: u32,
    /// Units on hand of each seeded SKU.
    pub seed_quantity: i32,
    /// Lifetime of a reservation that names none.
    #[serde(with = "humantime_serde")]
    pub default_ttl: Duration,
    /// Longest lifetime a reservation may ask for.
    #[serde(with = "humantime_serde")]
    pub max_ttl: Duration,
    /// Largest quantity of one reservation or adjustment.
    pub max_quantity: i32,
    /// Most adjustments in one BulkAdjust stream.
    pub max_adjustments: usize,
    /// Most SKUs one WatchStock call may name.
    pub max_watch_skus: usize,
    /// How often expired reservations are swept.
    #[serde(with = "humantime_serde")]
    pub sweep_interval: Duration,
}

// Every duration, rate and size, range-checked at start-up (exit 2 naming the key):
// a zero interval or rate would panic or stop work later.
impl Validate for Settings {
    fn validate(&self, check: &mut Check) {
        self.server.validate(check);
        self.faults.validate(check);
        check.range("grpc.max_in_flight", self.grpc.max_in_flight, 1, 1_000_000);
        check.duration(
            "grpc.storm_delay",
            self.grpc.storm_delay,
            Duration::ZERO,
            HOUR,
        );
        let inventory = &self.inventory;
        check.range("inventory.seed_skus", inventory.seed_skus, 0, 99_999);
        check.range(
            "inventory.seed_quantity",
            inventory.seed_quantity,
            0,
            1_000_000_000,
        );
        check.duration("inventory.max_ttl", inventory.max_ttl, MILLISECOND, 7 * DAY);
        check.duration(
            "inventory.default_ttl",
            inventory.default_ttl,
            MILLISECOND,
            inventory.max_ttl,
        );
        check.range(
            "inventory.max_quantity",
            inventory.max_quantity,
            1,
            1_000_000_000,
        );
        check.range(
            "inventory.max_adjustments",
            inventory.max_adjustments,
            1,
            1_000_000,
        );
        check.range(
            "inventory.max_watch_skus",
            inventory.max_watch_skus,
            1,
            100_000,
        );
        check.duration(
            "inventory.sweep_interval",
            inventory.sweep_interval,
            MILLISECOND,
            HOUR,
        );
    }
}

const MILLISECOND: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_hold_every_key() {
        let settings = Settings::defaults();
        assert_eq!(settings.server.port, 50051);
        assert_eq!(settings.inventory.seed_skus, 1000);
        assert!(settings.faults.scenarios.contains_key("deadline_storm"));
        assert!(settings.faults.scenarios.contains_key("stalled_stream"));
        assert_eq!(settings.grpc.deadline_margin, Duration::from_millis(50));
    }

    #[test]
    fn a_mistyped_key_is_named() {
        let err = service_kit::config::load_from::<Settings>(
            DEFAULTS,
            None,
            vec![("APP__GRPC__MAX_IN_FLIGT".to_owned(), "1".to_owned())],
        )
        .unwrap_err();
        assert!(err.to_string().contains("grpc.max_in_fligt"), "{err}");
    }

    #[test]
    fn every_setting_out_of_its_range_is_named() {
        let defaults: Settings =
            service_kit::config::load_from(DEFAULTS, None, Vec::new()).unwrap();
        Check::run(&defaults).unwrap();
        for (env, value, key) in [
            (
                "APP__INVENTORY__SWEEP_INTERVAL",
                "0s",
                "inventory.sweep_interval",
            ),
            ("APP__GRPC__MAX_IN_FLIGHT", "0", "grpc.max_in_flight"),
            ("APP__INVENTORY__DEFAULT_TTL", "2h", "inventory.default_ttl"),
            (
                "APP__INVENTORY__MAX_QUANTITY",
                "0",
                "inventory.max_quantity",
            ),
            ("APP__FAULTS__ERRORS__STATUS", "200", "faults.errors.status"),
        ] {
            let settings: Settings = service_kit::config::load_from(
                DEFAULTS,
                None,
                vec![(env.to_owned(), value.to_owned())],
            )
            .unwrap();
            let err = Check::run(&settings).unwrap_err().to_string();
            assert!(err.contains(&format!("`{key}`")), "{env}={value}: {err}");
        }
    }
}
