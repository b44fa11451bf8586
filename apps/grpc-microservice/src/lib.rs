//! grpc-microservice: an inventory service over gRPC (poem-grpc), the gRPC slice
//! of obi-examples. Everything OBI shows about it comes from outside the process;
//! the app itself only writes JSON logs.

pub mod details;
pub mod framing;
pub mod guard;
pub mod proto;
pub mod scenarios;
pub mod service;
pub mod settings;
pub mod startup;
pub mod store;
