//! The charts' own dependencies, as the gate needs them: reading `Chart.yaml`
//! (which protocols the umbrella offers) and building every chart's `charts/`
//! offline before installing.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use super::Layout;
use super::gate::UMBRELLA;
use super::kube::{self, helm};

/// `helm dependency update` of every chart with dependencies, the umbrella last
/// (it packages the app charts together with their own dependencies). Offline:
/// every dependency is `file://`.
pub(super) fn build_dependencies(layout: &Layout, charts: &Path) -> Result<()> {
    let mut dirs = Vec::new();
    for entry in
        std::fs::read_dir(charts).with_context(|| format!("cannot read {}", charts.display()))?
    {
        let dir = entry?.path();
        if dir.join("Chart.yaml").is_file() && !read_chart(&dir)?.dependencies.is_empty() {
            dirs.push(dir);
        }
    }
    dirs.sort_by_key(|dir| (dir.ends_with(UMBRELLA), dir.clone()));
    for dir in dirs {
        kube::run(
            helm(layout)
                .args(["dependency", "update", "--skip-refresh"])
                .arg(&dir),
        )?;
    }
    Ok(())
}

/// The fields of `Chart.yaml` this gate reads.
#[derive(Debug, Deserialize)]
pub(super) struct ChartYaml {
    #[serde(default)]
    pub(super) dependencies: Vec<Dependency>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Dependency {
    pub(super) name: String,
    alias: Option<String>,
}

impl Dependency {
    pub(super) fn alias(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }
}

pub(super) fn read_chart(dir: &Path) -> Result<ChartYaml> {
    let file = dir.join("Chart.yaml");
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    serde_yaml_ng::from_str(&text).with_context(|| format!("cannot parse {}", file.display()))
}
