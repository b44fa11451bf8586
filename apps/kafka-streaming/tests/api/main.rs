//! API tests of kafka-streaming against the real Kafka of `cargo xtask services up`:
//! fresh topics and a fresh consumer group per test (deleted afterwards); the broker
//! outage test runs a private broker it can stop.

mod broker;
mod events;
mod faults;
mod health;
mod helpers;
mod openapi;
mod outage;
mod restart;
mod shutdown;
mod throughput;
