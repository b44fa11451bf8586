//! Integration tests of grpc-microservice: the real app on a loopback port, driven
//! by the generated gRPC client (and plain HTTP for probes and admin). One file per
//! feature.

mod deadlines;
mod faults;
mod health;
mod helpers;
mod shutdown;
mod streams;
mod unary;
