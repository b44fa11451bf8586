//! The app's configuration: the kit's `server`, `faults` and `admin` sections plus
//! `redis` (the idempotency records), `idempotency` and `hops` (address, timeouts and
//! pool of each downstream), with built-in defaults in `config/default.yaml`.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use service_kit::config::{Check, ServerSettings, Validate};
use service_kit::faults::FaultSettings;
use service_kit::faults::admin::AdminSettings;

use crate::hops::Hop;

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
    /// Tuning of the app's fault scenarios.
    pub scenarios: ScenarioSettings,
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

/// `scenarios.*`: the `slow_hop` and `broken_hop` scenarios.
#[derive(Debug, Clone, Deserialize)]
pub struct ScenarioSettings {
    /// The guilty hop (an HTTP one: cart, orders, events or catalog).
    pub hop: Hop,
    /// That app's admin token, which its fault headers need in `x-fault-token`.
    pub hop_token: SecretString,
    /// `slow_hop`: how much later the guilty hop answers.
    #[serde(with = "humantime_serde")]
    pub slow_hop_delay: Duration,
    /// `broken_hop`: the status the guilty hop fails with (5xx).
    pub broken_hop_status: u16,
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

// Every duration, size and address, range-checked at start-up (exit 2 naming the
// key): a zero timeout would fail every checkout, a zero pool or TTL would go unseen
// until load. `startup::build` adds the one cross-key rule (in_progress_ttl against
// the hops' timeouts).
impl Validate for Settings {
    fn validate(&self, check: &mut Check) {
        self.server.validate(check);
        self.faults.validate(check);
        let redis = &self.redis;
        check.not_empty("redis.host", &redis.host);
        check.range("redis.port", redis.port, 1, u16::MAX);
        check.range("redis.db", redis.db, 0, 255);
        check.not_empty("redis.key_prefix", &redis.key_prefix);
        check.duration(
            "redis.connect_timeout",
            redis.connect_timeout,
            MILLISECOND,
            HOUR,
        );
        check.duration(
            "redis.response_timeout",
            redis.response_timeout,
            MILLISECOND,
            HOUR,
        );
        let idempotency = &self.idempotency;
        check.duration("idempotency.ttl", idempotency.ttl, SECOND, 30 * DAY);
        check.duration(
            "idempotency.in_progress_ttl",
            idempotency.in_progress_ttl,
            SECOND,
            DAY,
        );
        let hops = &self.hops;
        for (name, hop) in [
            ("cart", &hops.cart),
            ("orders", &hops.orders),
            ("events", &hops.events),
            ("catalog", &hops.catalog),
        ] {
            hop.validate(name, check);
        }
        let scenarios = &self.scenarios;
        if scenarios.hop == Hop::Inventory {
            check.fail(
                "scenarios.hop",
                "inventory is gRPC; the guilty hop must be cart, orders, events or catalog".into(),
            );
        }
        check.duration(
            "scenarios.slow_hop_delay",
            scenarios.slow_hop_delay,
            MILLISECOND,
            30 * SECOND,
        );
        check.range(
            "scenarios.broken_hop_status",
            scenarios.broken_hop_status,
            500,
            599,
        );
        if self.faults.scenarios.values().any(|s| s.enabled)
            && scenarios.hop_token.expose_secret().is_empty()
        {
            check.fail(
                "scenarios.hop_token",
                "slow_hop and broken_hop need the guilty app's admin token".into(),
            );
        }
        let inventory = &hops.inventory;
        url(check, "hops.inventory.url", &inventory.url);
        check.duration(
            "hops.inventory.timeout",
            inventory.timeout,
            MILLISECOND,
            HOUR,
        );
        check.duration(
            "hops.inventory.reservation_ttl",
            inventory.reservation_ttl,
            SECOND,
            DAY,
        );
        check.duration(
            "hops.inventory.max_connection_age",
            inventory.max_connection_age,
            SECOND,
            DAY,
        );
    }
}

impl HttpHop {
    fn validate(&self, name: &str, check: &mut Check) {
        url(check, &format!("hops.{name}.url"), &self.url);
        check.duration(
            &format!("hops.{name}.connect_timeout"),
            self.connect_timeout,
            MILLISECOND,
            HOUR,
        );
        check.duration(
            &format!("hops.{name}.timeout"),
            self.timeout,
            MILLISECOND,
            HOUR,
        );
        check.range(
            &format!("hops.{name}.max_idle_connections"),
            self.max_idle_connections,
            0,
            10_000,
        );
        check.duration(
            &format!("hops.{name}.idle_timeout"),
            self.idle_timeout,
            SECOND,
            DAY,
        );
    }
}

/// A hop's base URL: plaintext HTTP (OBI reads the wire), without a path.
fn url(check: &mut Check, key: &str, value: &str) {
    let rest = value
        .strip_prefix("http://")
        .unwrap_or_default()
        .trim_end_matches('/');
    if rest.is_empty() || rest.contains('/') {
        check.fail(key, format!("`{value}` is not an http://host:port URL"));
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

    #[test]
    fn every_setting_out_of_its_range_is_named() {
        let defaults: Settings =
            service_kit::config::load_from(DEFAULTS, None, Vec::new()).unwrap();
        Check::run(&defaults).unwrap();
        for (env, value, key) in [
            ("APP__HOPS__ORDERS__TIMEOUT", "0s", "hops.orders.timeout"),
            ("APP__HOPS__CART__URL", "https://cart", "hops.cart.url"),
            (
                "APP__HOPS__CATALOG__URL",
                "http://x:1/api",
                "hops.catalog.url",
            ),
            (
                "APP__HOPS__INVENTORY__TIMEOUT",
                "0s",
                "hops.inventory.timeout",
            ),
            ("APP__IDEMPOTENCY__TTL", "0s", "idempotency.ttl"),
            (
                "APP__REDIS__RESPONSE_TIMEOUT",
                "0s",
                "redis.response_timeout",
            ),
            ("APP__SERVER__MAX_BODY_BYTES", "1", "server.max_body_bytes"),
            ("APP__SCENARIOS__HOP", "inventory", "scenarios.hop"),
            (
                "APP__SCENARIOS__BROKEN_HOP_STATUS",
                "404",
                "scenarios.broken_hop_status",
            ),
            (
                "APP__SCENARIOS__SLOW_HOP_DELAY",
                "1m",
                "scenarios.slow_hop_delay",
            ),
            (
                "APP__FAULTS__SLOW_HOP__ENABLED",
                "true",
                "scenarios.hop_token",
            ),
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
