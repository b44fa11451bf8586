//! The app's configuration: the kit's sections plus the catalog's own
//! (`store`, `auth`, `rate_limit`, `images`, `reports`), with built-in defaults.

use std::time::Duration;

use secrecy::SecretString;
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
    /// Bounds of the in-memory store and of list pages.
    pub store: StoreSettings,
    /// Token issuing and checking.
    pub auth: AuthSettings,
    /// Per-client request budget.
    pub rate_limit: RateLimitSettings,
    /// Product image uploads.
    pub images: ImageSettings,
    /// The inventory report (the `slow_endpoint` scenario's endpoint).
    pub reports: ReportSettings,
}

/// `store.*`.
#[derive(Debug, Clone, Deserialize)]
pub struct StoreSettings {
    /// Most products held.
    pub capacity: usize,
    /// Most image bytes held in total.
    pub image_bytes: usize,
    /// Page size when a list names no `limit`.
    pub default_page_size: u32,
    /// Largest accepted `limit`.
    pub max_page_size: u32,
}

/// `auth.*`.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    /// HS256 secret; empty means random per process.
    pub jwt_secret: SecretString,
    /// Lifetime of issued tokens.
    #[serde(with = "humantime_serde")]
    pub token_ttl: Duration,
    /// `iss` claim of issued tokens.
    pub issuer: String,
    /// Who may get a token.
    pub users: Vec<DemoUser>,
}

/// One configured demo user.
#[derive(Debug, Clone, Deserialize)]
pub struct DemoUser {
    /// Login name.
    pub username: String,
    /// Password, compared in constant time.
    pub password: SecretString,
    /// What the user's tokens allow.
    pub role: crate::auth::Role,
}

/// `rate_limit.*`.
#[derive(Debug, Clone, Deserialize)]
pub struct RateLimitSettings {
    /// Off means no client is ever limited.
    pub enabled: bool,
    /// Refill rate of each bucket.
    pub requests_per_second: f64,
    /// Bucket size.
    pub burst: u32,
    /// Most buckets kept.
    pub max_clients: usize,
}

/// `images.*`.
#[derive(Debug, Clone, Deserialize)]
pub struct ImageSettings {
    /// Largest accepted image, in bytes.
    pub max_bytes: usize,
    /// Accepted content types.
    pub allowed_types: Vec<String>,
}

/// `reports.*`.
#[derive(Debug, Clone, Deserialize)]
pub struct ReportSettings {
    /// Extra time the inventory report takes under `faults.slow_endpoint`.
    #[serde(with = "humantime_serde")]
    pub slow_delay: Duration,
}

// Every duration, rate and size, range-checked at start-up (exit 2 naming the key):
// a zero interval or rate would panic or stop work later.
impl Validate for Settings {
    fn validate(&self, check: &mut Check) {
        self.server.validate(check);
        self.faults.validate(check);
        let (store, auth, limit) = (&self.store, &self.auth, &self.rate_limit);
        check.range("store.capacity", store.capacity, 1, 1_000_000);
        check.range("store.image_bytes", store.image_bytes, 1, 1 << 30);
        check.range(
            "store.max_page_size",
            store.max_page_size,
            1,
            crate::routes::MAX_PAGE_SIZE,
        );
        check.range(
            "store.default_page_size",
            store.default_page_size,
            1,
            store.max_page_size,
        );
        check.duration("auth.token_ttl", auth.token_ttl, SECOND, DAY);
        check.not_empty("auth.issuer", &auth.issuer);
        check.range(
            "rate_limit.requests_per_second",
            limit.requests_per_second,
            0.001,
            1e6,
        );
        check.range("rate_limit.burst", limit.burst, 1, 1_000_000);
        check.range("rate_limit.max_clients", limit.max_clients, 1, 10_000_000);
        // An upload is a multipart body: the image plus its form's framing.
        let room = usize::try_from(self.server.max_body_bytes.saturating_sub(MULTIPART_FRAMING))
            .unwrap_or(usize::MAX);
        check.range("images.max_bytes", self.images.max_bytes, 1, room.max(1));
        check.duration(
            "reports.slow_delay",
            self.reports.slow_delay,
            Duration::ZERO,
            HOUR,
        );
    }
}

/// What a multipart upload adds to the image's bytes, at most (boundaries, headers).
const MULTIPART_FRAMING: u64 = 64 * 1024;

const SECOND: Duration = Duration::from_secs(1);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_hold_every_key() {
        let settings: Settings =
            service_kit::config::load_from(DEFAULTS, None, Vec::new()).unwrap();
        assert_eq!(settings.server.port, 8080);
        assert_eq!(settings.auth.users.len(), 4);
        assert!(settings.faults.scenarios.contains_key("slow_endpoint"));
    }

    #[test]
    fn a_mistyped_key_is_named() {
        let err = service_kit::config::load_from::<Settings>(
            DEFAULTS,
            None,
            vec![("APP__STORE__CAPACTY".to_owned(), "1".to_owned())],
        )
        .unwrap_err();
        assert!(err.to_string().contains("store.capacty"), "{err}");
    }

    #[test]
    fn every_setting_out_of_its_range_is_named() {
        let defaults: Settings =
            service_kit::config::load_from(DEFAULTS, None, Vec::new()).unwrap();
        Check::run(&defaults).unwrap();
        for (env, value, key) in [
            (
                "APP__RATE_LIMIT__REQUESTS_PER_SECOND",
                "0",
                "rate_limit.requests_per_second",
            ),
            ("APP__AUTH__TOKEN_TTL", "0s", "auth.token_ttl"),
            (
                "APP__STORE__DEFAULT_PAGE_SIZE",
                "0",
                "store.default_page_size",
            ),
            ("APP__IMAGES__MAX_BYTES", "104857600", "images.max_bytes"),
            ("APP__FAULTS__ERRORS__RATE", "2", "faults.errors.rate"),
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
