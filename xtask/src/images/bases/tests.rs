//! Tests of `images::bases`.

use super::runtime_tree::{control_field, status_entry};
use super::*;
use std::io::Write;

fn write(path: &Path, text: &str) {
    fs::File::create(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .unwrap();
}

#[test]
fn the_dockerfile_defaults_name_the_rust_version_and_the_release() {
    let defaults = Defaults::read().unwrap();
    assert_eq!(defaults.release, "bookworm");
    assert!(defaults.rust.starts_with("1."), "{defaults:?}");
    // The runtime default must be the same Debian release (bookworm is 12).
    assert!(
        defaults.runtime.contains("debian12"),
        "RUNTIME_IMAGE {:?} is not Debian 12 like the builder",
        defaults.runtime
    );
}

#[test]
fn a_dockerfile_without_a_builder_default_is_refused() {
    let err = Defaults::parse("ARG BUILDER_IMAGE\nARG RUNTIME_IMAGE=x\n").unwrap_err();
    assert!(err.to_string().contains("BUILDER_IMAGE"), "{err}");
    let err = Defaults::parse("ARG BUILDER_IMAGE=debian:12\nARG RUNTIME_IMAGE=x\n").unwrap_err();
    assert!(err.to_string().contains("rust:<version>"), "{err}");
}

#[test]
fn status_entries_say_installed_after_the_package_name() {
    let control = "Package: libc6\nVersion: 2.36\nArchitecture: amd64\n";
    assert_eq!(
        status_entry(control),
        "Package: libc6\nStatus: install ok installed\nVersion: 2.36\nArchitecture: amd64\n\n"
    );
    assert_eq!(control_field(control, "Version").as_deref(), Some("2.36"));
    assert_eq!(control_field(control, "Source"), None);
}

#[test]
fn a_changed_recipe_changes_the_fingerprint() {
    let runtime = Recipe::runtime("bookworm");
    let mut other = runtime.clone();
    other.packages = &["base-files", "netbase", "libc6", "libgcc-s1", "tzdata"];
    assert_ne!(runtime.fingerprint(), other.fingerprint());
    assert_eq!(
        runtime.fingerprint(),
        Recipe::runtime("bookworm").fingerprint()
    );
}

#[test]
fn the_runtime_user_is_nonroot_65532_without_a_login_shell() {
    assert!(PASSWD.contains("nonroot:x:65532:65532:"));
    assert!(!PASSWD.contains("/bin/sh") && !PASSWD.contains("/bin/bash"));
}

#[test]
fn local_certificates_are_read_sorted_and_only_crt_files() {
    let dir = std::env::temp_dir().join(format!("xtask-cas-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    write(&dir.join("b.crt"), "B");
    write(&dir.join("a.crt"), "A");
    write(&dir.join("notes.txt"), "x");
    let found = local_certificates(&dir).unwrap();
    assert_eq!(
        found,
        [("a.crt".into(), "A".into()), ("b.crt".into(), "B".into())]
    );
    assert!(local_certificates(&dir.join("missing")).unwrap().is_empty());
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn shell_quoting_survives_quotes() {
    assert_eq!(shell_quote("/a b/it's"), "'/a b/it'\\''s'");
}
