//! Integration tests of http-rest-api: the real app on a loopback port, driven
//! over HTTP. One file per feature.

mod auth;
mod faults;
mod generated;
mod health;
mod helpers;
mod images;
mod listing;
mod openapi;
mod products;
mod rate_limit;
mod shutdown;
