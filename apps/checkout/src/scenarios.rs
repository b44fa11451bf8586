//! The app's fault scenarios beyond the kit's latency and errors: none. The journey's
//! faults are its hops' own (a slow or failing downstream, switched on that app).

use service_kit::faults::Catalog;

/// What `/admin/faults` lists and `faults.*` accepts beyond latency and errors.
pub const CATALOG: Catalog = &[];
