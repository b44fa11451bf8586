//! Generates the inventory.v1 client and messages from grpc-microservice's proto (the
//! one definition of the contract; checkout never serves it).

fn main() -> std::io::Result<()> {
    let protos = "../grpc-microservice/proto";
    println!("cargo:rerun-if-changed={protos}");
    poem_grpc_build::Config::new().build_server(false).compile(
        &[format!("{protos}/inventory/v1/inventory.proto")],
        &[protos],
    )
}
