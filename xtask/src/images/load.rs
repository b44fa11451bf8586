//! `cargo xtask images load`: puts the built images into the nodes of a kind
//! cluster from their archives (`kind load image-archive`), so that a chart
//! installed with `global.image.registry=localhost` runs them without any
//! registry. The charts' `IfNotPresent` pull policy and the pinned tags make the
//! nodes use the loaded images instead of pulling.

use anyhow::{Context, Result, bail};

use super::{out_dir, reference};
use crate::cmd;

/// Loads the archives of `names` into the kind cluster `cluster`.
pub fn load(cluster: &str, names: &[&str]) -> Result<()> {
    if !cmd::exists("kind") {
        bail!(
            "`kind` is not on PATH; install it (https://kind.sigs.k8s.io), create a \
             cluster, then run this again"
        );
    }
    for name in names {
        let archive = out_dir().join(format!("{name}.tar"));
        if !archive.is_file() {
            bail!(
                "no {} (run `cargo xtask images build {name}` first)",
                archive.display()
            );
        }
        cmd::run(cmd::new("kind").args(load_args(cluster, &archive.display().to_string())))
            .with_context(|| {
                format!(
                    "cannot load {} into kind cluster {cluster}",
                    reference(name)
                )
            })?;
    }
    eprintln!(
        "images: loaded {} image(s) into kind cluster {cluster}; install the charts with \
         --set global.image.registry=localhost",
        names.len()
    );
    Ok(())
}

fn load_args(cluster: &str, archive: &str) -> Vec<String> {
    ["load", "image-archive", archive, "--name", cluster]
        .map(str::to_owned)
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_archive_is_loaded_into_the_named_cluster() {
        assert_eq!(
            load_args("obi-examples", "/w/target/images/redis-cache.tar"),
            [
                "load",
                "image-archive",
                "/w/target/images/redis-cache.tar",
                "--name",
                "obi-examples"
            ]
        );
    }
}
