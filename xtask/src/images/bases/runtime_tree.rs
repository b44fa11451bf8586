//! The runtime base's file tree after mmdebstrap: a dpkg status of exactly the
//! packages kept, the dropped packages' files and apt's state gone, the `nonroot`
//! user, its home and a world-writable `/tmp`.

use std::fs;
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::cmd;

/// Packages that only come along as dependencies and are removed again: base-files
/// pre-depends on an awk, which would be an interpreter in an image without one.
pub(super) const RUNTIME_DROPPED: &[&str] = &["mawk"];

/// What the runtime base holds besides the packages: its users and name service.
pub(super) const PASSWD: &str = "root:x:0:0:root:/root:/sbin/nologin\n\
                      nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n";
pub(super) const GROUP: &str = "root:x:0:\nnonroot:x:65532:\n";
pub(super) const NSSWITCH: &str = "passwd: files\ngroup: files\nhosts: files dns\n";

/// The dpkg status file mmdebstrap's extract variant leaves empty is filled from
/// the packages' control files; the rest of dpkg's and apt's state goes.
pub(super) const RUNTIME_REMOVED: &[&str] = &[
    "etc/apt",
    "etc/dpkg/dpkg.cfg.d",
    "etc/fstab",
    "etc/hostname",
    "etc/resolv.conf",
    "var/cache/apt",
    "var/lib/apt",
    "var/log/apt",
    "var/lib/dpkg/alternatives",
    "var/lib/dpkg/arch",
    "var/lib/dpkg/available",
    "var/lib/dpkg/cmethopt",
    "var/lib/dpkg/info",
    "var/lib/dpkg/triggers",
    "var/lib/dpkg/updates",
];

/// Turns mmdebstrap's extracted tree into the runtime base: the dpkg status of
/// the packages kept, the dropped packages' files gone, apt's state gone, the
/// users, `/home/nonroot` and a world-writable `/tmp`.
pub(super) fn finish_runtime(root: &Path) -> Result<()> {
    let archives = root.join("var/cache/apt/archives");
    let mut debs: Vec<PathBuf> = fs::read_dir(&archives)
        .with_context(|| format!("cannot read {}", archives.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "deb"))
        .collect();
    debs.sort();
    let mut status = String::new();
    for deb in &debs {
        let control = cmd::output(cmd::new("dpkg-deb").arg("--field").arg(deb))?;
        let package = control_field(&control, "Package")
            .with_context(|| format!("{} has no Package field", deb.display()))?;
        if RUNTIME_DROPPED.contains(&package.as_str()) {
            let listing = cmd::output(
                cmd::new("sh")
                    .arg("-c")
                    .arg("dpkg-deb --fsys-tarfile \"$1\" | tar -t")
                    .arg("sh")
                    .arg(deb),
            )?;
            for file in listing.lines().map(|line| line.trim_start_matches("./")) {
                let path = root.join(file);
                if path.is_file() || path.is_symlink() {
                    fs::remove_file(&path)
                        .with_context(|| format!("cannot remove {}", path.display()))?;
                }
            }
            continue;
        }
        status.push_str(&status_entry(&control));
    }
    for removed in RUNTIME_REMOVED {
        let path = root.join(removed);
        if path.is_dir() {
            fs::remove_dir_all(&path)
        } else if path.exists() || path.is_symlink() {
            fs::remove_file(&path)
        } else {
            Ok(())
        }
        .with_context(|| format!("cannot remove {}", path.display()))?;
    }
    let dpkg = root.join("var/lib/dpkg");
    fs::create_dir_all(&dpkg)?;
    fs::write(dpkg.join("status"), status)?;
    fs::write(root.join("etc/passwd"), PASSWD)?;
    fs::write(root.join("etc/group"), GROUP)?;
    fs::write(root.join("etc/nsswitch.conf"), NSSWITCH)?;
    let home = root.join("home/nonroot");
    fs::create_dir_all(&home)?;
    chown(&home, Some(65532), Some(65532))
        .with_context(|| format!("cannot chown {}", home.display()))?;
    fs::set_permissions(&home, fs::Permissions::from_mode(0o700))?;
    let tmp = root.join("tmp");
    fs::create_dir_all(&tmp)?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o1777))?;
    Ok(())
}

/// The value of one field of a Debian control paragraph.
pub(super) fn control_field(control: &str, name: &str) -> Option<String> {
    control.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key == name).then(|| value.trim().to_owned())
    })
}

/// A `/var/lib/dpkg/status` paragraph: the package's control fields with the
/// `Status` of an installed package after its name.
pub(super) fn status_entry(control: &str) -> String {
    let mut entry = String::new();
    for line in control.lines() {
        entry.push_str(line);
        entry.push('\n');
        if line.starts_with("Package:") {
            entry.push_str("Status: install ok installed\n");
        }
    }
    entry.push('\n');
    entry
}
