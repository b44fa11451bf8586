//! http-rest-api: a product catalog over HTTP/REST (poem + poem-openapi), the
//! HTTP slice of obi-examples. Everything OBI shows about it comes from outside
//! the process; the app itself only writes JSON logs.

pub mod auth;
pub mod cursor;
pub mod domain;
pub mod error;
pub mod rate_limit;
pub mod routes;
pub mod scenarios;
pub mod settings;
pub mod startup;
pub mod store;
pub mod upload_limit;
