//! Generates the `grpc-echo` baseline's server and its descriptor set (for reflection,
//! which the app serves too, and clients such as grpcurl load the schema from).

fn main() -> std::io::Result<()> {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo:rerun-if-changed=proto");
    poem_grpc_build::Config::new()
        .build_client(false)
        .file_descriptor_set_path(out.join("echo_descriptor.bin"))
        .compile(&["proto/echo/v1/echo.proto"], &["proto"])
}
