//! The control plane `cargo xtask cluster` runs: kube-apiserver,
//! kube-controller-manager, kube-scheduler and kubectl from `k8s.io/kubernetes`,
//! etcd from `go.etcd.io/etcd/server/v3` and kwok from `sigs.k8s.io/kwok`, built
//! from the Go module proxy into the tool cache once (a cold build takes minutes;
//! a warm `cargo xtask tools` only reads the stamps).
//!
//! Two of the three modules cannot be built where `go mod download` puts them:
//! their `go.mod` replaces sibling modules with directories of their repository
//! (`./staging/src/k8s.io/api`, `../api`), which a module download does not
//! contain. So their tree is copied into a scratch directory and each such replace
//! is pointed at the published module of the same release (Kubernetes publishes
//! every staging directory as `k8s.io/<name>` v0.<minor>.<patch>; etcd publishes
//! its siblings at the server's own version). The build then resolves exactly the
//! code of that release, checked against the checksum database like any module.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::go::{download, go};
use super::{Install, Row};
use crate::{cmd, paths};

/// The Kubernetes release of the API server and its controllers: the minor
/// version helm's client-go is built for (helm v3.19: client-go v0.34).
pub const KUBERNETES_VERSION: &str = "v1.34.2";

/// How a module's `go.mod` must change before it builds outside its repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Patch {
    /// Builds as downloaded.
    None,
    /// `k8s.io/X => ./staging/src/k8s.io/X` becomes `k8s.io/X => k8s.io/X <version>`.
    Staging(&'static str),
    /// `X => ../dir` is dropped: `X` is required at the module's own version.
    Siblings,
}

/// One module built into one or more binaries of the tool cache.
#[derive(Debug)]
struct Build {
    /// The stamp's key.
    name: &'static str,
    module: &'static str,
    version: &'static str,
    patch: Patch,
    /// (main package relative to the module root, binary name).
    binaries: &'static [(&'static str, &'static str)],
    /// `-X` flags as the project's release build sets them (`{version}`, `{bare}`
    /// as in `go.rs`).
    ldflags: &'static [&'static str],
    /// Arguments that make the first binary print its version, and what the
    /// output must contain: proves the `-X` flags reached the right variable.
    version_check: (&'static [&'static str], &'static str),
}

const BUILDS: &[Build] = &[
    Build {
        name: "kubernetes",
        module: "k8s.io/kubernetes",
        version: KUBERNETES_VERSION,
        patch: Patch::Staging("v0.34.2"),
        binaries: &[
            ("./cmd/kube-apiserver", "kube-apiserver"),
            ("./cmd/kube-controller-manager", "kube-controller-manager"),
            ("./cmd/kube-scheduler", "kube-scheduler"),
            ("./cmd/kubectl", "kubectl"),
        ],
        // hack/lib/version.sh sets these; without gitVersion the server reports
        // v0.0.0-master and helm's `kubeVersion` constraints reject every chart.
        ldflags: &[
            "-X k8s.io/component-base/version.gitVersion={version}",
            "-X k8s.io/component-base/version.gitMajor=1",
            "-X k8s.io/component-base/version.gitMinor=34",
            "-X k8s.io/component-base/version.gitTreeState=clean",
            "-X k8s.io/client-go/pkg/version.gitVersion={version}",
            "-X k8s.io/client-go/pkg/version.gitMajor=1",
            "-X k8s.io/client-go/pkg/version.gitMinor=34",
        ],
        version_check: (&["--version"], "Kubernetes v1.34.2"),
    },
    Build {
        name: "etcd",
        module: "go.etcd.io/etcd/server/v3",
        // Kubernetes 1.34 is tested against etcd 3.6; the newest 3.6 patch.
        version: "v3.6.16",
        patch: Patch::Siblings,
        binaries: &[(".", "etcd")],
        ldflags: &[],
        version_check: (&["--version"], "etcd Version: 3.6.16"),
    },
    Build {
        name: "kwok",
        module: "sigs.k8s.io/kwok",
        version: "v0.8.0",
        patch: Patch::None,
        binaries: &[("./cmd/kwok", "kwok")],
        ldflags: &["-X sigs.k8s.io/kwok/pkg/consts.Version={bare}"],
        version_check: (&["--version"], "0.8.0"),
    },
];

impl Build {
    /// Everything that determines the binaries: the stamp's value.
    fn recipe(&self) -> String {
        let packages: Vec<&str> = self.binaries.iter().map(|(package, _)| *package).collect();
        format!(
            "{}@{} patch={:?} {} -ldflags={}",
            self.module,
            self.version,
            self.patch,
            packages.join(" "),
            self.ldflags()
        )
    }

    fn ldflags(&self) -> String {
        let bare = self.version.trim_start_matches('v');
        let mut flags = vec!["-s".to_owned(), "-w".to_owned()];
        flags.extend(self.ldflags.iter().map(|flag| {
            flag.replace("{version}", self.version)
                .replace("{bare}", bare)
        }));
        flags.join(" ")
    }

    fn targets(&self) -> Vec<PathBuf> {
        let bin = paths::tools_bin();
        self.binaries
            .iter()
            .map(|(_, name)| bin.join(name))
            .collect()
    }
}

/// Builds every control-plane binary whose stamp does not match its pin.
pub(super) fn ensure(install: &mut Install) -> Result<()> {
    for build in BUILDS {
        let targets = build.targets();
        let recipe = build.recipe();
        let present = targets.iter().all(|target| target.is_file());
        if !(present && install.stamps.is_current(build.name, &recipe)) {
            compile(build)?;
            install.stamps.record(build.name, &recipe)?;
        }
        for ((_, name), target) in build.binaries.iter().zip(targets) {
            install.rows.push(Row::new(*name, build.version, target));
        }
    }
    Ok(())
}

fn compile(build: &Build) -> Result<()> {
    let names: Vec<&str> = build.binaries.iter().map(|(_, name)| *name).collect();
    println!(
        "building {} from {}@{} (go; the first build takes minutes)",
        names.join(", "),
        build.module,
        build.version
    );
    let started = std::time::Instant::now();
    let downloaded = download(build.module, build.version)?;
    let scratch = paths::cache()
        .join("build")
        .join(format!("{}-{}", build.name, build.version));
    let dir = match build.patch {
        Patch::None => downloaded,
        Patch::Staging(staging) => {
            copy_tree(&downloaded, &scratch)?;
            rewrite_go_mod(&scratch, |go_mod| point_staging_at(go_mod, staging))?;
            scratch.clone()
        }
        Patch::Siblings => {
            copy_tree(&downloaded, &scratch)?;
            rewrite_go_mod(&scratch, |go_mod| {
                drop_sibling_replaces(go_mod, build.version)
            })?;
            scratch.clone()
        }
    };

    // Build into a directory next to the binaries and move them in only when all
    // built: a failed build never replaces a working binary.
    let bin = paths::tools_bin();
    let partial = bin.join(format!(".{}.partial", build.name));
    let _ = fs::remove_dir_all(&partial);
    fs::create_dir_all(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    let mut command = go(&dir);
    command
        // Not the repository's workspace (go.work lists the staging directories).
        .env("GOWORK", "off")
        .args(["build", "-trimpath"])
        .arg(format!("-ldflags={}", build.ldflags()))
        .arg("-o");
    // One package: name its binary (go would call `.` of etcd/server/v3 `server`).
    // Several: go names each after its directory, as the binaries are named.
    match build.binaries {
        [(_, name)] => command.arg(partial.join(name)),
        _ => command.arg(format!("{}/", partial.display())),
    };
    if build.patch != Patch::None {
        // The patched go.mod needs go.sum lines for the published staging or
        // sibling modules: -mod=mod adds them, verified by the checksum database.
        command.env("GOFLAGS", "-buildvcs=false -mod=mod");
    }
    command.args(build.binaries.iter().map(|(package, _)| *package));
    cmd::run(&mut command)?;

    let (args, expected) = build.version_check;
    let first = partial.join(build.binaries[0].1);
    let shown = cmd::output(std::process::Command::new(&first).args(args))?;
    if !shown.contains(expected) {
        bail!(
            "{} {} printed {:?}, expected it to contain {expected:?}: check the -ldflags in {}",
            first.display(),
            args.join(" "),
            shown.trim(),
            file!()
        );
    }
    for (_, name) in build.binaries {
        let target = bin.join(name);
        fs::rename(partial.join(name), &target)
            .with_context(|| format!("cannot move the build to {}", target.display()))?;
    }
    let _ = fs::remove_dir_all(&partial);
    if build.patch != Patch::None {
        let _ = remove_tree(&scratch);
    }
    println!(
        "built {} in {:.0}s",
        names.join(", "),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Copies the module tree `from` (read-only, as Go's module cache keeps it) to a
/// fresh writable `to`.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    if to.exists() {
        remove_tree(to)?;
    }
    copy_dir(from, to)
        .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if kind.is_file() {
            fs::copy(entry.path(), &target)?;
            make_writable(&target)?;
        }
        // Module zips hold no symlinks or other kinds of files.
    }
    Ok(())
}

fn make_writable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut permissions = fs::metadata(path)?.permissions();
    permissions.set_mode(permissions.mode() | 0o200);
    fs::set_permissions(path, permissions)
}

fn remove_tree(dir: &Path) -> Result<()> {
    fs::remove_dir_all(dir).with_context(|| format!("cannot remove {}", dir.display()))
}

fn rewrite_go_mod(dir: &Path, patch: impl FnOnce(&str) -> Result<String>) -> Result<()> {
    let path = dir.join("go.mod");
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let patched = patch(&text).with_context(|| format!("cannot patch {}", path.display()))?;
    fs::write(&path, patched).with_context(|| format!("cannot write {}", path.display()))
}

/// Points each `k8s.io/X => ./staging/src/k8s.io/X` replace at the published
/// `k8s.io/X <staging>`. Fails when there is none (the layout changed) or when
/// a replace into the repository is left over.
fn point_staging_at(go_mod: &str, staging: &str) -> Result<String> {
    let mut rewritten = 0;
    let mut out = String::with_capacity(go_mod.len());
    for line in go_mod.lines() {
        let trimmed = line.trim();
        let replaced = trimmed.split_once("=>").and_then(|(module, target)| {
            let (module, target) = (module.trim(), target.trim());
            let name = module.strip_prefix("k8s.io/")?;
            (target == format!("./staging/src/k8s.io/{name}"))
                .then(|| format!("\t{module} => {module} {staging}"))
        });
        match replaced {
            Some(line) => {
                rewritten += 1;
                out.push_str(&line);
            }
            None if trimmed.contains("=> ./") || trimmed.contains("=> ../") => {
                bail!("a replace into the repository is left: `{trimmed}`")
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    if rewritten == 0 {
        bail!("no `k8s.io/* => ./staging/src/k8s.io/*` replace found");
    }
    Ok(out)
}

/// Drops each `X => ../dir` replace, after checking that `X` is required at
/// `version`: then the published `X` is the code the replace pointed at.
fn drop_sibling_replaces(go_mod: &str, version: &str) -> Result<String> {
    let mut dropped = 0;
    let mut out = String::with_capacity(go_mod.len());
    for line in go_mod.lines() {
        let spec = line.trim().trim_start_matches("replace ").trim();
        if let Some((module, target)) = spec.split_once("=>")
            && target.trim().starts_with("../")
        {
            let module = module.trim();
            match super::go::required_version(go_mod, module) {
                Some(required) if required == version => {
                    dropped += 1;
                    continue;
                }
                found => bail!(
                    "{module} is replaced by {} but required at {found:?}, not {version}",
                    target.trim()
                ),
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    if dropped == 0 {
        bail!("no `=> ../` replace found");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUBERNETES_GO_MOD: &str = "module k8s.io/kubernetes

require (
\tk8s.io/api v0.0.0
\tk8s.io/utils v0.0.0-20250604170112-4c0f3b243397
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/kube-scheduler => ./staging/src/k8s.io/kube-scheduler
)
";

    #[test]
    fn staging_replaces_point_at_the_published_modules() {
        let patched = point_staging_at(KUBERNETES_GO_MOD, "v0.34.2").unwrap();
        assert!(patched.contains("\tk8s.io/api => k8s.io/api v0.34.2\n"));
        assert!(patched.contains("\tk8s.io/kube-scheduler => k8s.io/kube-scheduler v0.34.2\n"));
        assert!(!patched.contains("staging"));
        assert!(patched.contains("\tk8s.io/utils v0.0.0-20250604170112-4c0f3b243397\n"));
    }

    #[test]
    fn a_go_mod_without_staging_replaces_is_refused() {
        let err = point_staging_at("module k8s.io/kubernetes\n", "v0.34.2").unwrap_err();
        assert!(err.to_string().contains("no `k8s.io/*"));
        let left = format!("{KUBERNETES_GO_MOD}replace example.com/x => ./third_party/x\n");
        let err = point_staging_at(&left, "v0.34.2").unwrap_err();
        assert!(err.to_string().contains("third_party/x"), "{err}");
    }

    const ETCD_GO_MOD: &str = "module go.etcd.io/etcd/server/v3

require (
\tgo.etcd.io/etcd/api/v3 v3.6.16
\tgo.etcd.io/etcd/pkg/v3 v3.6.16
)

replace (
\tgo.etcd.io/etcd/api/v3 => ../api
\tgo.etcd.io/etcd/pkg/v3 => ../pkg
)

replace go.etcd.io/etcd => ./FORBIDDEN_DEPENDENCY
";

    #[test]
    fn sibling_replaces_are_dropped_when_required_at_the_same_version() {
        let patched = drop_sibling_replaces(ETCD_GO_MOD, "v3.6.16").unwrap();
        assert!(!patched.contains("../"));
        assert!(patched.contains("\tgo.etcd.io/etcd/api/v3 v3.6.16\n"));
        assert!(patched.contains("replace go.etcd.io/etcd => ./FORBIDDEN_DEPENDENCY\n"));
    }

    #[test]
    fn a_sibling_required_at_another_version_is_refused() {
        let err = drop_sibling_replaces(ETCD_GO_MOD, "v3.6.17").unwrap_err();
        assert!(err.to_string().contains("go.etcd.io/etcd/api/v3"), "{err}");
    }

    #[test]
    fn each_version_check_expects_the_pinned_version() {
        for build in BUILDS {
            let expected = build.version_check.1;
            assert!(
                expected.contains(build.version.trim_start_matches('v')),
                "{}: {expected:?} does not name {}",
                build.name,
                build.version
            );
        }
    }

    #[test]
    fn a_changed_pin_or_flag_changes_the_recipe() {
        let kubernetes = &BUILDS[0];
        let bumped = Build {
            version: "v1.34.3",
            ..*kubernetes
        };
        assert_ne!(kubernetes.recipe(), bumped.recipe());
        assert!(
            kubernetes
                .ldflags()
                .contains("-X k8s.io/component-base/version.gitVersion=v1.34.2")
        );
    }
}
