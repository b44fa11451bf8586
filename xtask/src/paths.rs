//! Where things live: the repository root, `target/`, and the tool cache.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The repository root (the parent of `xtask/`).
///
/// Read from `CARGO_MANIFEST_DIR` at run time (`cargo run` sets it), and only then
/// from the value compiled in: checkouts that share one `CARGO_TARGET_DIR` can run
/// a binary that another checkout built, whose compiled-in path is not ours.
pub fn root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        manifest_dir
            .parent()
            .expect("xtask lives one level below the repository root")
            .to_owned()
    })
}

/// `target/` of this checkout: service data and logs live under `target/services/`.
///
/// Always inside the checkout, even when `CARGO_TARGET_DIR` sends build output
/// elsewhere (CI shares one build cache between fresh clones; services stay per clone).
pub fn target() -> PathBuf {
    root().join("target")
}

/// Where `cargo xtask services` keeps each server's data and logs:
/// `$OBI_EXAMPLES_SERVICES_DIR`, else `target/services/` of this checkout.
///
/// Several checkouts of the repository (git worktrees) can share one set of
/// servers by pointing this variable at the same directory; the servers are
/// recognised by their working directory under it.
pub fn services() -> PathBuf {
    std::env::var_os("OBI_EXAMPLES_SERVICES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| target().join("services"))
}

/// The tool cache, outside the checkout so that fresh clones (CI) reuse it:
/// `$OBI_EXAMPLES_CACHE`, else `$XDG_CACHE_HOME/obi-examples`, else `~/.cache/obi-examples`.
pub fn cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("OBI_EXAMPLES_CACHE") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(|| root().join("target"));
    base.join("obi-examples")
}

/// Binaries installed by `cargo xtask tools` (Go tools, k6, ...).
pub fn tools_bin() -> PathBuf {
    cache().join("tools").join("bin")
}
