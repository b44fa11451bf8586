//! The fault model: named faults that make an app misbehave on purpose, so OBI has
//! something to show. One model, three switches:
//!
//! - configuration (`faults.*`, from chart values) sets the initial state;
//! - the authenticated admin endpoint ([`admin`]) changes it at runtime;
//! - `x-fault-*` request headers ([`headers`]) apply a fault to one request, for
//!   deterministic tests (the switch can be turned off by `faults.headers: false`).
//!
//! Every app knows `latency` and `errors`; each declares its own scenarios
//! (`n_plus_one`, `cache_stampede`, ...) in a [`Catalog`].

pub mod admin;
pub mod headers;
pub mod middleware;
mod model;

pub use model::{
    Catalog, Decision, ErrorFault, FaultError, FaultSettings, Faults, LatencyFault, ScenarioFault,
    ScenarioInfo,
};
