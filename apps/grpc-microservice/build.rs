//! Generates the inventory.v1 server, client and messages from the proto at build
//! time (protoc from the machine's packages), the descriptor set reflection serves,
//! and the health and reflection clients the integration tests use (when tests/ is
//! there: an image's build context has no tests).

fn main() -> std::io::Result<()> {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo:rerun-if-changed=proto");
    println!("cargo:rerun-if-changed=tests/proto");
    poem_grpc_build::Config::new()
        .file_descriptor_set_path(out.join("inventory_descriptor.bin"))
        .compile(&["proto/inventory/v1/inventory.proto"], &["proto"])?;
    // The tests' clients, only where the tests are: an image's build context leaves
    // tests/ out (.dockerignore), and the binary never uses these clients.
    if !std::path::Path::new("tests/proto").is_dir() {
        return Ok(());
    }
    poem_grpc_build::Config::new().build_server(false).compile(
        &["tests/proto/health.proto", "tests/proto/reflection.proto"],
        &["tests/proto"],
    )
}
