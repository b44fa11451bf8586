//! The two base images, made here from Debian packages with mmdebstrap because no
//! image registry is reachable from our machines. They stand in for the public
//! defaults of the Dockerfile's `BUILDER_IMAGE` and `RUNTIME_IMAGE`:
//!
//! - **builder** (for `rust:<version>-<release>`): Debian's C and C++ compilers,
//!   libc headers, make, pkgconf and protoc, plus the Rust toolchain this machine already has
//!   (the one whose version the Dockerfile names), laid out like the rust image
//!   (`cargo` and `rustc` on `PATH`, `CARGO_HOME=/usr/local/cargo`). It trusts the
//!   CAs this machine trusts locally (`/usr/local/share/ca-certificates`), so that
//!   cargo reaches crates.io through a TLS-inspecting proxy the way the host does.
//! - **runtime** (for `distroless/cc-<release>:nonroot`): glibc and libgcc_s,
//!   `base-files` (os-release, for scanners) and `netbase`, a `dpkg` status file
//!   listing exactly those packages (for SBOMs and scanners), a `nonroot` user
//!   65532 and `/tmp`; no shell, no package manager, no interpreter.
//!
//! Each base is made once and reused while its recipe (packages, toolchain, this
//! file's settings) is unchanged; `--refresh-bases` makes them again, which is how
//! Debian's security updates get in. Rebuilding the builder base invalidates every
//! layer built on it, so the next image build is a cold one.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, Result, bail};

mod runtime_tree;

use super::apt_sources;
use super::podman;
use crate::tools::stamp::fingerprint;
use crate::{cmd, paths};
use runtime_tree::{GROUP, NSSWITCH, PASSWD, RUNTIME_DROPPED, RUNTIME_REMOVED, finish_runtime};

/// The label holding a base's recipe fingerprint.
const RECIPE_LABEL: &str = "org.obi-examples.base.recipe";

/// The public defaults in the Dockerfile, which the local bases stand in for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defaults {
    /// Rust `major.minor` of `BUILDER_IMAGE` (`rust:1.95-bookworm` -> `1.95`).
    pub rust: String,
    /// Debian release of `BUILDER_IMAGE` (`bookworm`).
    pub release: String,
    /// `RUNTIME_IMAGE`'s default.
    pub runtime: String,
}

impl Defaults {
    /// Reads the `ARG BUILDER_IMAGE=` and `ARG RUNTIME_IMAGE=` defaults.
    pub fn parse(dockerfile: &str) -> Result<Self> {
        let arg = |name: &str| {
            dockerfile
                .lines()
                .find_map(|line| line.trim().strip_prefix(&format!("ARG {name}=")))
                .map(str::trim)
                .with_context(|| format!("the Dockerfile has no `ARG {name}=<default>`"))
        };
        let builder = arg("BUILDER_IMAGE")?;
        let (rust, release) = builder
            .strip_prefix("rust:")
            .and_then(|tag| tag.split_once('-'))
            .with_context(|| {
                format!("BUILDER_IMAGE's default {builder:?} is not `rust:<version>-<release>`")
            })?;
        Ok(Self {
            rust: rust.to_owned(),
            release: release.to_owned(),
            runtime: arg("RUNTIME_IMAGE")?.to_owned(),
        })
    }

    /// The Dockerfile's defaults.
    pub fn read() -> Result<Self> {
        let path = paths::root().join("Dockerfile");
        let text =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse(&text)
    }
}

/// The local base images, as `--build-arg` values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bases {
    /// For `BUILDER_IMAGE`.
    pub builder: String,
    /// For `RUNTIME_IMAGE`.
    pub runtime: String,
}

/// The recipes of both bases, as the Dockerfile's defaults and this machine's
/// toolchain ask for them: (runtime, builder).
fn recipes() -> Result<(Recipe, Recipe)> {
    let defaults = Defaults::read()?;
    let toolchain = Toolchain::find(&defaults.rust)?;
    let runtime = Recipe::runtime(&defaults.release);
    let builder = Recipe::builder(&defaults.release, &toolchain)?;
    Ok((runtime, builder))
}

/// The builder base's recipe fingerprint when both bases exist as their current
/// recipes would make them, else why not (nothing is made here).
pub fn made() -> Result<std::result::Result<String, String>> {
    let (runtime, builder) = recipes()?;
    for recipe in [&runtime, &builder] {
        let current = podman::label(&recipe.image, RECIPE_LABEL)?;
        if current.as_deref() != Some(recipe.fingerprint().as_str()) {
            return Ok(Err(format!(
                "the base {} is missing or outdated",
                recipe.image
            )));
        }
    }
    Ok(Ok(builder.fingerprint()))
}

/// Makes the bases that are missing or whose recipe changed (all of them with
/// `refresh`), and returns their names.
pub fn ensure(refresh: bool) -> Result<Bases> {
    let (runtime, builder) = recipes()?;
    for recipe in [&runtime, &builder] {
        let current = podman::label(&recipe.image, RECIPE_LABEL)?;
        if !refresh && current.as_deref() == Some(recipe.fingerprint().as_str()) {
            continue;
        }
        let started = std::time::Instant::now();
        eprintln!("images: making the base {} (mmdebstrap)", recipe.image);
        recipe.make()?;
        eprintln!(
            "images: {} made in {:.0}s",
            recipe.image,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(Bases {
        builder: builder.image,
        runtime: runtime.image,
    })
}

/// The host's Rust toolchain that matches the Dockerfile's version.
#[derive(Debug, Clone)]
struct Toolchain {
    /// `rustc --print sysroot`: holds `bin/` and `lib/`.
    sysroot: PathBuf,
    /// Full version, e.g. `1.95.0`.
    version: String,
}

impl Toolchain {
    fn find(wanted: &str) -> Result<Self> {
        let version_line = cmd::output(cmd::new("rustc").arg("-V"))?;
        let version = version_line
            .split_whitespace()
            .nth(1)
            .context("`rustc -V` printed no version")?
            .to_owned();
        if !version.starts_with(&format!("{wanted}.")) {
            bail!(
                "the Dockerfile builds with Rust {wanted} but this machine's rustc is {version}: \
                 `rustup toolchain install {wanted}` and make it the default here, or change \
                 BUILDER_IMAGE's default (GitHub builds with that one)"
            );
        }
        let sysroot =
            PathBuf::from(cmd::output(cmd::new("rustc").args(["--print", "sysroot"]))?.trim());
        Ok(Self { sysroot, version })
    }
}

/// One base image: its name and how mmdebstrap makes it.
#[derive(Debug, Clone)]
struct Recipe {
    image: String,
    release: String,
    kind: Kind,
    /// `--include` packages.
    packages: &'static [&'static str],
    /// `--dpkgopt` values (path filters).
    dpkg_options: Vec<&'static str>,
    /// What else decides the result (toolchain version, local CAs).
    extra: String,
}

#[derive(Debug, Clone)]
enum Kind {
    Runtime,
    Builder {
        toolchain: Toolchain,
        local_cas: Option<PathBuf>,
    },
}

/// Documentation, manuals and translations of Debian packages are of no use in an
/// image; copyright files stay (licence compliance).
const SLIM: &[&str] = &[
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/locale/*",
];

/// The runtime also drops info pages, lintian overrides, glibc's iconv modules
/// (nothing here converts charsets) and base-files' motd scripts (shell scripts,
/// and there is no shell).
const RUNTIME_SLIM: &[&str] = &[
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/lintian/*",
    "path-exclude=/usr/lib/x86_64-linux-gnu/gconv/*",
    "path-exclude=/etc/update-motd.d/*",
];

/// Every file's time in the bases is clamped to this (mmdebstrap honours
/// `SOURCE_DATE_EPOCH`): the same packages give the same layer, so remaking a
/// base whose packages did not change keeps every image layer cached on it.
const SOURCE_DATE_EPOCH: &str = "1700000000";

impl Recipe {
    fn runtime(release: &str) -> Self {
        Self {
            image: format!("localhost/obi-examples/runtime:{release}"),
            release: release.to_owned(),
            kind: Kind::Runtime,
            packages: &["base-files", "netbase", "libc6", "libgcc-s1"],
            dpkg_options: SLIM.iter().chain(RUNTIME_SLIM).copied().collect(),
            extra: format!("{PASSWD}{GROUP}{NSSWITCH}{RUNTIME_REMOVED:?}{RUNTIME_DROPPED:?}"),
        }
    }

    fn builder(release: &str, toolchain: &Toolchain) -> Result<Self> {
        let local_cas = Path::new("/usr/local/share/ca-certificates");
        let cas = local_certificates(local_cas)?;
        let mut extra = format!("rust {}", toolchain.version);
        for (name, pem) in &cas {
            extra.push_str(&format!(" {name}:{}", fingerprint(pem)));
        }
        Ok(Self {
            image: format!(
                "localhost/obi-examples/builder:{release}-rust-{}",
                toolchain.version
            ),
            release: release.to_owned(),
            kind: Kind::Builder {
                toolchain: toolchain.clone(),
                local_cas: (!cas.is_empty()).then(|| local_cas.to_owned()),
            },
            // What rust:<version>-<release> (buildpack-deps) offers and the build
            // uses: librdkafka's configure insists on a C++ compiler.
            packages: &[
                "ca-certificates",
                "g++",
                "gcc",
                "libc6-dev",
                "make",
                "pkgconf",
                "protobuf-compiler",
            ],
            dpkg_options: SLIM.to_vec(),
            extra,
        })
    }

    /// Everything that decides the image, hashed: stored as a label, compared
    /// before reusing the image.
    fn fingerprint(&self) -> String {
        fingerprint(&format!(
            "{} {} {:?} {:?} {}",
            self.image, self.release, self.packages, self.dpkg_options, self.extra
        ))
    }

    fn mmdebstrap(&self) -> Result<std::process::Command> {
        let mut command = cmd::new("mmdebstrap");
        command.env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH);
        command.arg(match self.kind {
            Kind::Runtime => "--variant=extract",
            Kind::Builder { .. } => "--variant=minbase",
        });
        command.arg(format!("--include={}", self.packages.join(",")));
        for option in &self.dpkg_options {
            command.arg(format!("--dpkgopt={option}"));
        }
        match &self.kind {
            // The packages stay in apt's cache for `finish_runtime` to read.
            Kind::Runtime => {
                command.arg("--skip=cleanup/apt/cache");
            }
            Kind::Builder {
                toolchain,
                local_cas,
            } => {
                command.arg(format!(
                    "--customize-hook=tar -C {} -c bin/cargo bin/rustc bin/rustdoc lib | tar -C \"$1/usr/local\" -x",
                    shell_quote(&toolchain.sysroot.to_string_lossy())
                ));
                if let Some(dir) = local_cas {
                    command.arg(format!(
                        "--customize-hook=cp -R {}/. \"$1/usr/local/share/ca-certificates/\" \
                         && chroot \"$1\" update-ca-certificates",
                        shell_quote(&dir.to_string_lossy())
                    ));
                }
            }
        }
        command.arg(&self.release);
        Ok(command)
    }

    fn make(&self) -> Result<()> {
        let sources = apt_sources::host_sources(&self.release)?;
        let mirrors: Vec<String> = sources.iter().map(apt_sources::Source::line).collect();
        let mut changes = vec![format!("LABEL {RECIPE_LABEL}={}", self.fingerprint())];
        match &self.kind {
            Kind::Runtime => {
                let dir = paths::target().join("images").join("runtime-rootfs");
                if dir.exists() {
                    fs::remove_dir_all(&dir)
                        .with_context(|| format!("cannot remove {}", dir.display()))?;
                }
                fs::create_dir_all(dir.parent().expect("has a parent"))?;
                cmd::run(
                    self.mmdebstrap()?
                        .arg(&dir)
                        .args(&mirrors)
                        .stdin(Stdio::null()),
                )?;
                finish_runtime(&dir)?;
                changes.extend([
                    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
                    "USER 65532:65532".into(),
                    "WORKDIR /home/nonroot".into(),
                ]);
                let tar = cmd::new("tar")
                    .args(["--numeric-owner", "--sort=name", "--clamp-mtime"])
                    .arg(format!("--mtime=@{SOURCE_DATE_EPOCH}"))
                    .arg("-C")
                    .arg(&dir)
                    .args(["-cf", "-", "."])
                    .stdout(Stdio::piped())
                    .spawn()
                    .context("cannot start tar")?;
                import(
                    tar,
                    &changes,
                    &self.image,
                    &["/lib64/ld-linux-x86-64.so.2", "--version"],
                )?;
                fs::remove_dir_all(&dir).ok();
            }
            Kind::Builder { .. } => {
                changes.extend([
                    "ENV CARGO_HOME=/usr/local/cargo".into(),
                    "ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
                        .into(),
                ]);
                // The tarball goes straight from mmdebstrap into podman.
                let mut command = self.mmdebstrap()?;
                command
                    .arg("-")
                    .args(&mirrors)
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped());
                eprintln!("$ mmdebstrap ... {} - {}", self.release, mirrors.join(" "));
                let child = command.spawn().context("cannot start mmdebstrap")?;
                import(
                    child,
                    &changes,
                    &self.image,
                    &[
                        "sh",
                        "-c",
                        "cargo -V && rustc -V && protoc --version && cc --version && c++ --version",
                    ],
                )?;
            }
        }
        Ok(())
    }
}

/// `podman import` of the tarball that `producer` writes to its stdout, under a
/// temporary name until `smoke` (a command run in it) passes: a broken import
/// never becomes the base that later builds trust.
fn import(
    mut producer: std::process::Child,
    changes: &[String],
    image: &str,
    smoke: &[&str],
) -> Result<()> {
    let partial = format!("{image}-partial");
    let stdout = producer
        .stdout
        .take()
        .context("the producer has no stdout")?;
    let mut command = podman::podman();
    command.arg("import");
    for change in changes {
        command.args(["--change", change]);
    }
    let imported = command
        .args(["--quiet", "-", &partial])
        .stdin(stdout)
        .output()
        .context("cannot run `podman import`")?;
    let produced = producer
        .wait()
        .context("the tarball producer did not finish")?;
    let outcome = if !produced.success() {
        Err(anyhow::anyhow!(
            "making the root filesystem of {image} failed with {produced}"
        ))
    } else if !imported.status.success() {
        Err(anyhow::anyhow!(
            "`podman import` of {image} failed: {}",
            String::from_utf8_lossy(&imported.stderr).trim()
        ))
    } else {
        cmd::output(
            podman::podman()
                .args(["run", "--rm", "--network", "none"])
                .args(podman::ulimit_args())
                .arg(&partial)
                .args(smoke),
        )
        .map(drop)
        .with_context(|| format!("the new {image} does not work"))
    };
    if outcome.is_ok() {
        cmd::output(podman::podman().args(["tag", &partial, image]))?;
    }
    let _ = podman::podman()
        .args(["untag", &partial, &partial])
        .output();
    outcome
}

/// The `.crt` files directly in `dir` (name, content), sorted; none when it is missing.
fn local_certificates(dir: &Path) -> Result<Vec<(String, String)>> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut certificates = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "crt") {
            let pem = fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            certificates.push((name.into_owned(), pem));
        }
    }
    certificates.sort();
    Ok(certificates)
}

/// `text` as one single-quoted shell word.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests;
