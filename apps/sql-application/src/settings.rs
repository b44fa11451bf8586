//! The app's configuration: the kit's `server`, `faults` and `admin` sections plus
//! `database`, `orders` and `scenarios`, with built-in defaults in `config/default.yaml`.

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;
use service_kit::config::{Check, ServerSettings, Validate};
use service_kit::faults::FaultSettings;
use service_kit::faults::admin::AdminSettings;

/// Every key with its default value, embedded in the binary.
pub const DEFAULTS: &str = include_str!("../config/default.yaml");

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Listener and drain.
    pub server: ServerSettings,
    /// PostgreSQL connection and pool.
    pub database: DatabaseSettings,
    /// Limits of the orders API.
    pub orders: OrdersSettings,
    /// Tuning of the app's fault scenarios.
    pub scenarios: ScenarioSettings,
    /// Fault switches (the kit's model).
    pub faults: FaultSettings,
    /// The admin endpoint.
    pub admin: AdminSettings,
}

/// `database.*`: where PostgreSQL is and how the pool behaves.
#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// User name.
    pub user: String,
    /// Password (from a Secret in Kubernetes: `APP__DATABASE__PASSWORD`).
    pub password: SecretString,
    /// Database name.
    pub name: String,
    /// Most pooled connections.
    pub max_connections: u32,
    /// Connections kept open while idle.
    pub min_connections: u32,
    /// Longest wait for a pooled connection before answering 503.
    #[serde(with = "humantime_serde")]
    pub acquire_timeout: Duration,
    /// Connections are closed after this long, so OBI sees their statements prepared again.
    #[serde(with = "humantime_serde")]
    pub max_lifetime: Duration,
    /// Idle connections above `min_connections` are closed after this long.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// PostgreSQL cancels any statement running longer (`statement_timeout`).
    #[serde(with = "humantime_serde")]
    pub statement_timeout: Duration,
    /// Apply the embedded migrations at start-up.
    pub migrate: bool,
}

/// `orders.*`: request limits.
#[derive(Debug, Clone, Deserialize)]
pub struct OrdersSettings {
    /// Longest page of a listing.
    pub max_page_size: u32,
    /// Most line items in one order.
    pub max_items: u32,
}

/// `scenarios.*`: how strong the app's faults are.
#[derive(Debug, Clone, Deserialize)]
pub struct ScenarioSettings {
    /// `slow_query`: sleep inside the report statement.
    #[serde(with = "humantime_serde")]
    pub slow_query_sleep: Duration,
    /// `pool_exhaustion`: how long an affected request holds a connection.
    #[serde(with = "humantime_serde")]
    pub pool_hold: Duration,
}

// Every duration, rate and size, range-checked at start-up (exit 2 naming the key):
// a zero interval or rate would panic or stop work later.
impl Validate for Settings {
    fn validate(&self, check: &mut Check) {
        self.server.validate(check);
        self.faults.validate(check);
        let db = &self.database;
        check.not_empty("database.host", &db.host);
        check.range("database.port", db.port, 1, u16::MAX);
        check.not_empty("database.user", &db.user);
        check.not_empty("database.name", &db.name);
        check.range("database.max_connections", db.max_connections, 1, 1000);
        check.range(
            "database.min_connections",
            db.min_connections,
            0,
            db.max_connections,
        );
        check.duration(
            "database.acquire_timeout",
            db.acquire_timeout,
            MILLISECOND,
            HOUR,
        );
        check.duration("database.max_lifetime", db.max_lifetime, SECOND, DAY);
        check.duration("database.idle_timeout", db.idle_timeout, SECOND, DAY);
        check.duration(
            "database.statement_timeout",
            db.statement_timeout,
            MILLISECOND,
            HOUR,
        );
        check.range(
            "orders.max_page_size",
            self.orders.max_page_size,
            1,
            crate::routes::MAX_PAGE_SIZE,
        );
        check.range(
            "orders.max_items",
            self.orders.max_items,
            1,
            crate::domain::order::MAX_ITEMS,
        );
        let scenarios = &self.scenarios;
        check.duration(
            "scenarios.slow_query_sleep",
            scenarios.slow_query_sleep,
            Duration::ZERO,
            HOUR,
        );
        check.duration(
            "scenarios.pool_hold",
            scenarios.pool_hold,
            Duration::ZERO,
            HOUR,
        );
    }
}

const MILLISECOND: Duration = Duration::from_millis(1);
const SECOND: Duration = Duration::from_secs(1);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_load() {
        let settings: Settings = service_kit::config::load_from(DEFAULTS, None, []).unwrap();
        assert_eq!(settings.server.port, 8081);
        assert_eq!(settings.database.max_lifetime, Duration::from_secs(300));
        assert!(settings.faults.scenarios.contains_key("n_plus_one"));
    }

    #[test]
    fn a_mistyped_database_key_is_named() {
        let err = service_kit::config::load_from::<Settings>(
            DEFAULTS,
            None,
            [("APP__DATABASE__HOTS".to_owned(), "x".to_owned())],
        )
        .unwrap_err();
        assert!(err.to_string().contains("database.hots"), "{err}");
    }

    #[test]
    fn every_setting_out_of_its_range_is_named() {
        let defaults: Settings =
            service_kit::config::load_from(DEFAULTS, None, Vec::new()).unwrap();
        Check::run(&defaults).unwrap();
        for (env, value, key) in [
            (
                "APP__DATABASE__ACQUIRE_TIMEOUT",
                "0s",
                "database.acquire_timeout",
            ),
            (
                "APP__DATABASE__MAX_CONNECTIONS",
                "0",
                "database.max_connections",
            ),
            ("APP__ORDERS__MAX_ITEMS", "0", "orders.max_items"),
            (
                "APP__ORDERS__MAX_PAGE_SIZE",
                "100000",
                "orders.max_page_size",
            ),
            ("APP__FAULTS__LATENCY__RATE", "-1", "faults.latency.rate"),
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
