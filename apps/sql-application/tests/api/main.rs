//! API tests of sql-application against the real PostgreSQL of `cargo xtask services up`:
//! one fresh database per test, reached through a TCP proxy the test controls.

mod contracts;
mod faults;
mod health;
mod helpers;
mod idempotency;
mod openapi;
mod orders;
mod outage;
mod pool;
mod proxy;
mod resources;
mod shutdown;
