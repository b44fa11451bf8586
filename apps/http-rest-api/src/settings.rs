//! The app's configuration: the kit's sections plus the catalog's own
//! (`store`, `auth`, `rate_limit`, `images`, `reports`), with built-in defaults.

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;
use service_kit::config::ServerSettings;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_hold_every_key() {
        let settings: Settings =
            service_kit::config::load_from(DEFAULTS, None, Vec::new()).unwrap();
        assert_eq!(settings.server.port, 8080);
        assert_eq!(settings.auth.users.len(), 3);
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
}
