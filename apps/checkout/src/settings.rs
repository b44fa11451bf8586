//! The app's configuration: the kit's `server`, `faults` and `admin` sections plus
//! `redis` (the idempotency records), `idempotency` and `hops` (address, timeouts and
//! pool of each downstream), with built-in defaults in `config/default.yaml`.

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
    /// Where the idempotency records are kept.
    pub redis: RedisSettings,
    /// Lifetimes of the idempotency records.
    pub idempotency: IdempotencySettings,
    /// The downstream apps.
    pub hops: HopsSettings,
    /// Fault switches (the kit's model).
    pub faults: FaultSettings,
    /// The admin endpoint.
    pub admin: AdminSettings,
}

/// `redis.*`.
#[derive(Debug, Clone, Deserialize)]
pub struct RedisSettings {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// `AUTH` password; empty for none.
    pub password: SecretString,
    /// Database number.
    pub db: i64,
    /// Prefix of every key.
    pub key_prefix: String,
    /// Bound of one connection attempt.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Bound of one command's answer.
    #[serde(with = "humantime_serde")]
    pub response_timeout: Duration,
}

/// `idempotency.*`.
#[derive(Debug, Clone, Deserialize)]
pub struct IdempotencySettings {
    /// How long a finished checkout is replayed.
    #[serde(with = "humantime_serde")]
    pub ttl: Duration,
    /// How long a running checkout holds its key.
    #[serde(with = "humantime_serde")]
    pub in_progress_ttl: Duration,
}

/// `hops.*`, in journey order.
#[derive(Debug, Clone, Deserialize)]
pub struct HopsSettings {
    /// redis-cache (the cart).
    pub cart: HttpHop,
    /// grpc-microservice (reservations).
    pub inventory: GrpcHop,
    /// sql-application (the order).
    pub orders: HttpHop,
    /// kafka-streaming (the event).
    pub events: HttpHop,
    /// http-rest-api (the receipt's product details).
    pub catalog: HttpHop,
}

impl HopsSettings {
    /// The longest one checkout can spend in its hops (each line's reservation and
    /// release counted once per line of a cart of `lines`).
    pub fn worst_case(&self, lines: u32) -> Duration {
        self.cart.timeout
            + self.inventory.timeout * lines * 2
            + self.orders.timeout
            + self.events.timeout
            + self.catalog.timeout
    }
}

/// One HTTP downstream.
#[derive(Debug, Clone, Deserialize)]
pub struct HttpHop {
    /// Base URL (`http://host:port`).
    pub url: String,
    /// Bound of one connection attempt.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Bound of the whole call, connection included.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Idle connections kept open to it.
    pub max_idle_connections: usize,
    /// How long an idle connection is kept.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
}

/// The gRPC downstream.
#[derive(Debug, Clone, Deserialize)]
pub struct GrpcHop {
    /// `http://host:port` (h2c).
    pub url: String,
    /// Bound of one call.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Lifetime of a reservation.
    #[serde(with = "humantime_serde")]
    pub reservation_ttl: Duration,
    /// Age at which the client's connection is replaced by a fresh one.
    #[serde(with = "humantime_serde")]
    pub max_connection_age: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_load() {
        let settings: Settings = service_kit::config::load_from(DEFAULTS, None, []).unwrap();
        assert_eq!(settings.server.port, 8084);
        assert_eq!(settings.hops.inventory.url, "http://127.0.0.1:50051");
        assert_eq!(settings.hops.orders.timeout, Duration::from_secs(5));
        assert!(settings.idempotency.in_progress_ttl > settings.hops.worst_case(1));
    }

    #[test]
    fn a_mistyped_key_is_named() {
        let err = service_kit::config::load_from::<Settings>(
            DEFAULTS,
            None,
            [("APP__HOPS__ORDERS__TIMEOUTT".to_owned(), "1s".to_owned())],
        )
        .unwrap_err();
        assert!(err.to_string().contains("hops.orders.timeoutt"), "{err}");
    }
}
