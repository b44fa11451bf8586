//! The inventory.v1 client and messages, generated from grpc-microservice's proto.

// Generated code: its style is prost's and poem-grpc-build's, not ours.
#![allow(
    missing_debug_implementations,
    unreachable_pub,
    unused_qualifications,
    clippy::all
)]

poem_grpc::include_proto!("inventory.v1");
