//! grpc-microservice: an inventory service over gRPC (poem-grpc), the gRPC slice
//! of obi-examples. Everything OBI shows about it comes from outside the process;
//! the app itself only writes JSON logs.

pub mod details;
pub mod faults;
pub mod guard;
pub mod proto;
pub mod service;
pub mod settings;
pub mod startup;
pub mod store;

/// The app's name: binary, chart, OBI `service_name`.
pub const APP_NAME: &str = "grpc-microservice";
