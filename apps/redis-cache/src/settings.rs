//! The app's configuration: the kit's `server`, `faults` and `admin` sections plus
//! `redis`, `origin`, `cache`, `sessions`, `prices` and `scenarios`, with built-in
//! defaults in `config/default.yaml`.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
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
    /// Where Redis is.
    pub redis: RedisSettings,
    /// What the cache sits in front of.
    pub origin: OriginSettings,
    /// Lifetimes of cached products.
    pub cache: CacheSettings,
    /// Sessions.
    pub sessions: SessionSettings,
    /// The price stream.
    pub prices: PriceSettings,
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
    /// Prefix of every key and of the channel.
    pub key_prefix: String,
    /// Bound of one connection attempt.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Bound of one command's answer.
    #[serde(with = "humantime_serde")]
    pub response_timeout: Duration,
    /// Pause before the subscriber reconnects.
    #[serde(with = "humantime_serde")]
    pub resubscribe_delay: Duration,
    /// Age at which the command connection is replaced by a fresh one.
    #[serde(with = "humantime_serde")]
    pub max_connection_age: Duration,
}

/// `origin.*`.
#[derive(Debug, Clone, Deserialize)]
pub struct OriginSettings {
    /// sql-application's base URL, or empty for the built-in origin.
    pub url: String,
    /// Built-in origin: latency of each call.
    #[serde(with = "humantime_serde")]
    pub latency: Duration,
    /// Built-in origin: products `1..=products` exist.
    pub products: i64,
    /// Longest wait for the origin.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

/// `cache.*`.
#[derive(Debug, Clone, Deserialize)]
pub struct CacheSettings {
    /// Freshness of a cached product.
    #[serde(with = "humantime_serde")]
    pub ttl: Duration,
    /// How long a product is still served (stale) after that.
    #[serde(with = "humantime_serde")]
    pub stale_ttl: Duration,
    /// How long a missing product is remembered.
    #[serde(with = "humantime_serde")]
    pub negative_ttl: Duration,
}

/// `sessions.*`.
#[derive(Debug, Clone, Deserialize)]
pub struct SessionSettings {
    /// Idle lifetime, refreshed on use.
    #[serde(with = "humantime_serde")]
    pub ttl: Duration,
    /// The demo password.
    pub password: SecretString,
}

/// `prices.*`.
#[derive(Debug, Clone, Deserialize)]
pub struct PriceSettings {
    /// SSE keep-alive interval.
    #[serde(with = "humantime_serde")]
    pub keep_alive: Duration,
}

/// `scenarios.*`.
#[derive(Debug, Clone, Deserialize)]
pub struct ScenarioSettings {
    /// `hot_key`: the product affected reads go to.
    pub hot_key_id: i64,
    /// `ttl_too_short`: TTL of affected fills.
    #[serde(with = "humantime_serde")]
    pub short_ttl: Duration,
}

// Every duration, rate and size, range-checked at start-up (exit 2 naming the key):
// a zero interval or rate would panic or stop work later.
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
        check.duration(
            "redis.resubscribe_delay",
            redis.resubscribe_delay,
            MILLISECOND,
            HOUR,
        );
        check.duration(
            "redis.max_connection_age",
            redis.max_connection_age,
            10 * MILLISECOND,
            DAY,
        );
        let origin = &self.origin;
        if !(origin.url.is_empty() || origin.url.starts_with("http://")) {
            check.fail(
                "origin.url",
                format!("`{}` is not empty nor an http:// URL", origin.url),
            );
        }
        check.duration("origin.latency", origin.latency, Duration::ZERO, HOUR);
        check.range("origin.products", origin.products, 1, 1_000_000_000);
        check.duration("origin.timeout", origin.timeout, MILLISECOND, HOUR);
        let cache = &self.cache;
        check.duration("cache.ttl", cache.ttl, MILLISECOND, 30 * DAY);
        check.duration("cache.stale_ttl", cache.stale_ttl, Duration::ZERO, 30 * DAY);
        check.duration(
            "cache.negative_ttl",
            cache.negative_ttl,
            MILLISECOND,
            30 * DAY,
        );
        check.duration("sessions.ttl", self.sessions.ttl, SECOND, 30 * DAY);
        check.not_empty("sessions.password", self.sessions.password.expose_secret());
        check.duration(
            "prices.keep_alive",
            self.prices.keep_alive,
            MILLISECOND,
            HOUR,
        );
        check.range(
            "scenarios.hot_key_id",
            self.scenarios.hot_key_id,
            1,
            origin.products.max(1),
        );
        check.duration(
            "scenarios.short_ttl",
            self.scenarios.short_ttl,
            MILLISECOND,
            30 * DAY,
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
        assert_eq!(settings.server.port, 8082);
        assert_eq!(settings.cache.ttl, Duration::from_secs(60));
        assert!(settings.faults.scenarios.contains_key("cache_stampede"));
        assert_eq!(settings.redis.max_connection_age, Duration::from_secs(300));
    }

    #[test]
    fn a_mistyped_key_is_named() {
        let err = service_kit::config::load_from::<Settings>(
            DEFAULTS,
            None,
            [("APP__REDIS__HOTS".to_owned(), "x".to_owned())],
        )
        .unwrap_err();
        assert!(err.to_string().contains("redis.hots"), "{err}");
    }

    #[test]
    fn every_setting_out_of_its_range_is_named() {
        let defaults: Settings =
            service_kit::config::load_from(DEFAULTS, None, Vec::new()).unwrap();
        Check::run(&defaults).unwrap();
        for (env, value, key) in [
            ("APP__PRICES__KEEP_ALIVE", "0s", "prices.keep_alive"),
            ("APP__CACHE__TTL", "0s", "cache.ttl"),
            (
                "APP__REDIS__RESPONSE_TIMEOUT",
                "0s",
                "redis.response_timeout",
            ),
            ("APP__SESSIONS__TTL", "0s", "sessions.ttl"),
            ("APP__ORIGIN__URL", "ftp://x", "origin.url"),
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
