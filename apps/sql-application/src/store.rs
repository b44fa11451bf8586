//! Everything that talks to PostgreSQL, one module per table family. Queries are
//! checked at run time (`sqlx::query_as`) and every one is exercised by the API
//! tests against a real server; see docs/sql-application.md for why.

pub mod customers;
pub mod orders;
pub mod products;
pub mod reports;
