//! API tests of redis-cache against the real Redis of `cargo xtask services up`:
//! one key prefix per test (its keys deleted afterwards), reached through a TCP
//! proxy the test controls.

mod carts;
mod connections;
mod faults;
mod helpers;
mod openapi;
mod origin;
mod outage;
mod prices;
mod products;
mod sessions;
mod shutdown;
