//! The fault model: named faults that make an app misbehave on purpose, so OBI has
//! something to show. One model, three switches:
//!
//! - configuration (`faults.*`, from chart values) sets the initial state;
//! - the authenticated admin endpoint ([`admin`]) changes it at runtime;
//! - `x-fault-*` request headers ([`headers`]) apply a fault to one request, for
//!   deterministic tests and the k6 Job, only with `faults.headers: true` and the admin
//!   token in `x-fault-token`.
//!
//! Every app knows `latency` and `errors`; each declares its own scenarios
//! (`n_plus_one`, `cache_stampede`, ...) in a [`Catalog`].

pub mod admin;
pub mod headers;
pub mod middleware;
mod model;
mod settings;

pub use model::{Catalog, Decision, FaultError, Faults, ScenarioInfo};
pub use settings::{ErrorFault, FaultSettings, LatencyFault, ScenarioFault};
