//! redis-cache: cache-aside over a slow origin, sessions and pub/sub price changes on
//! Redis, built to show what OBI sees of Redis traffic — hits, misses, stampedes, hot
//! keys and TTLs too short to help.

/// The app's name, in logs and in its OBI service name.
pub const APP_NAME: &str = "redis-cache";

pub mod cache;
pub mod error;
pub mod origin;
pub mod prices;
pub mod routes;
pub mod scenarios;
pub mod settings;
pub mod startup;
