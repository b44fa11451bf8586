//! The code generated from `proto/inventory/v1/inventory.proto` (server, client,
//! messages) and the descriptor set served by reflection.

// Generated code: its style is prost's and poem-grpc-build's, not ours.
#![allow(
    missing_debug_implementations,
    unreachable_pub,
    unused_qualifications,
    clippy::all
)]

poem_grpc::include_proto!("inventory.v1");

/// The encoded `FileDescriptorSet` of the inventory proto, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/inventory_descriptor.bin"));
