//! checkout's integration tests: the real checkout in front of the five real apps
//! (each on loopback, each on the shared PostgreSQL, Redis and Kafka with resources
//! of its own), one cuttable proxy on every hop.

mod failures;
mod helpers;
mod idempotency;
mod input;
mod journey;
mod openapi;
mod scenarios;
