//! The app's configuration: the kit's `server`, `faults` and `admin` sections plus
//! `database`, `orders` and `scenarios`, with built-in defaults in `config/default.yaml`.

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;
use service_kit::config::ServerSettings;
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
}
