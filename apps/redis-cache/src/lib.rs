//! redis-cache: cache-aside over a slow origin, sessions with their carts and pub/sub
//! price changes on Redis, built to show what OBI sees of Redis traffic — hits,
//! misses, stampedes, hot keys and TTLs too short to help.

pub mod cache;
pub mod cart;
pub mod error;
pub mod origin;
pub mod prices;
pub mod routes;
pub mod scenarios;
pub mod settings;
pub mod startup;
pub mod store;
