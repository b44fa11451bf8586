//! The app's fault scenarios beyond the kit's latency and errors.

use service_kit::faults::{Catalog, ScenarioInfo};

/// Request coalescing is off: every concurrent miss calls the origin.
pub const CACHE_STAMPEDE: &str = "cache_stampede";
/// Affected product reads all go to one key.
pub const HOT_KEY: &str = "hot_key";
/// Affected fills use `scenarios.short_ttl`, so entries expire almost at once.
pub const TTL_TOO_SHORT: &str = "ttl_too_short";

/// What `/admin/faults` lists and `faults.*` accepts.
pub const CATALOG: Catalog = &[
    ScenarioInfo {
        name: CACHE_STAMPEDE,
        description: "single-flight per key is off: concurrent misses of one key each call the origin and each SET the key; OBI shows origin calls and Redis GET misses per request spike",
    },
    ScenarioInfo {
        name: HOT_KEY,
        description: "affected GET /api/v1/products/{id} read scenarios.hot_key_id instead: one Redis key takes most GETs",
    },
    ScenarioInfo {
        name: TTL_TOO_SHORT,
        description: "affected cache fills expire after scenarios.short_ttl: the hit ratio collapses, SET and origin calls per request rise",
    },
];
