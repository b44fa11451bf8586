//! sql-application: an orders service on PostgreSQL, built to show what OBI sees of
//! SQL traffic — transactional writes, JOINs versus N+1 listings, a slow report,
//! and an exhausted pool.

pub mod domain;
pub mod error;
pub mod model;
pub mod routes;
pub mod scenarios;
pub mod settings;
pub mod startup;
pub mod store;
