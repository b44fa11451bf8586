//! checkout: one `POST /api/v1/checkout` that crosses every other app of the shop —
//! the cart from redis-cache (HTTP), a stock reservation on grpc-microservice (unary
//! gRPC), the order on sql-application (HTTP), an `order_placed` event through
//! kafka-streaming (HTTP) and the receipt's product details from http-rest-api (HTTP)
//! — with no tracing code, so that what OBI links of it is all OBI's.

pub mod error;
pub mod hops;
pub mod journey;
pub mod proto;
pub mod receipt;
pub mod routes;
pub mod scenarios;
pub mod settings;
pub mod startup;
pub mod store;
