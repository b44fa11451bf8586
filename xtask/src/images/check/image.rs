//! The image as a file: its configuration (user, entrypoint), its contents
//! (nothing executable but the app and shared libraries) and its compressed size.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, Result, bail};
use serde_json::json;

use crate::cmd;
use crate::images::podman;

/// The image's configuration: the user the charts expect and the app as PID 1.
pub(super) fn check_config(name: &str, image: &str) -> Result<()> {
    let info = podman::inspect(image)?
        .with_context(|| format!("no image {image} (run `cargo xtask images build {name}`)"))?;
    let config = &info["Config"];
    let user = config["User"].as_str().unwrap_or_default();
    if user != "65532:65532" {
        bail!("runs as user {user:?}, not 65532:65532");
    }
    let entrypoint = &config["Entrypoint"];
    if *entrypoint != json!([format!("/app/{name}")]) {
        bail!("its entrypoint is {entrypoint}, not [\"/app/{name}\"]");
    }
    Ok(())
}

/// Nothing executable in the image but the app and shared libraries: no shell,
/// no package manager, no interpreter.
pub(super) fn check_files(name: &str, image: &str) -> Result<()> {
    let mount = cmd::output(podman::podman().args(["image", "mount", image]))?;
    let root = PathBuf::from(mount.trim());
    let found = executables(&root);
    cmd::output(podman::podman().args(["image", "unmount", image]))?;
    let app = format!("/app/{name}");
    let unexpected: Vec<String> = found?
        .into_iter()
        .filter(|path| *path != app && !is_shared_library(path))
        .collect();
    if !unexpected.is_empty() {
        bail!("executables besides {app} and shared libraries: {unexpected:?}");
    }
    Ok(())
}

fn is_shared_library(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    file.ends_with(".so") || file.contains(".so.")
}

/// Every executable regular file, and every symlink named like a shell, under
/// `root`, as absolute paths inside the image.
fn executables(root: &Path) -> Result<Vec<String>> {
    use std::os::unix::fs::PermissionsExt;
    let mut found = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))? {
            let path = entry?.path();
            let meta = fs::symlink_metadata(&path)?;
            let inside = format!("/{}", path.strip_prefix(root)?.display());
            let file = path.file_name().unwrap_or_default().to_string_lossy();
            if meta.is_dir() {
                stack.push(path);
            } else if meta.file_type().is_symlink() {
                if ["sh", "bash", "dash", "ash", "busybox"].contains(&file.as_ref()) {
                    found.push(inside);
                }
            } else if meta.permissions().mode() & 0o111 != 0 {
                found.push(inside);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// `gzip -6` of the docker archive, counted: what the image weighs compressed.
pub(super) fn gzip_size(archive: &Path) -> Result<u64> {
    let mut gzip = cmd::new("gzip")
        .arg("-6")
        .arg("-c")
        .arg(archive)
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start gzip")?;
    let mut stdout = gzip.stdout.take().context("gzip has no stdout")?;
    let mut total = 0u64;
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = stdout.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    if !gzip.wait()?.success() {
        bail!("gzip of {} failed", archive.display());
    }
    Ok(total)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_app_and_shared_libraries_may_be_executable() {
        let root = std::env::temp_dir().join(format!("xtask-exec-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for (path, mode) in [
            ("app/sql-application", 0o755),
            ("lib/x86_64-linux-gnu/libc.so.6", 0o755),
            ("etc/passwd", 0o644),
            ("usr/bin/mawk", 0o755),
        ] {
            let file = root.join(path);
            fs::create_dir_all(file.parent().unwrap()).unwrap();
            fs::write(&file, "x").unwrap();
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&file, fs::Permissions::from_mode(mode)).unwrap();
        }
        std::os::unix::fs::symlink("dash", root.join("usr/bin/sh")).unwrap();
        let found = executables(&root).unwrap();
        assert_eq!(
            found,
            [
                "/app/sql-application",
                "/lib/x86_64-linux-gnu/libc.so.6",
                "/usr/bin/mawk",
                "/usr/bin/sh"
            ]
        );
        let unexpected: Vec<_> = found
            .iter()
            .filter(|p| *p != "/app/sql-application" && !is_shared_library(p))
            .collect();
        assert_eq!(unexpected, ["/usr/bin/mawk", "/usr/bin/sh"]);
        fs::remove_dir_all(&root).unwrap();
    }
}
