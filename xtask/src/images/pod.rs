//! A container of a rendered chart, as a kubelet would run it, turned into
//! `podman run` arguments: the image, its environment with Secret and ConfigMap
//! references resolved from the same render, ConfigMap and Secret volumes written
//! to files and mounted read-only, emptyDirs as tmpfs, the security context as
//! podman's flags, and the grace period and readiness probe for the caller.

use std::fs;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use serde_json::Value;

/// Files of a ConfigMap or Secret volume, mounted read-only at `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesMount {
    /// The volume's name (the directory its files are written to).
    pub volume: String,
    /// Where the container sees it.
    pub path: String,
    /// File name and content.
    pub files: Vec<(String, Vec<u8>)>,
}

/// An emptyDir, as a tmpfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scratch {
    /// Where the container sees it.
    pub path: String,
    /// `sizeLimit`, in podman's spelling (`64m`).
    pub size: Option<String>,
}

/// Everything of one container that decides how it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    /// The container's name in the pod spec.
    pub name: String,
    /// The image reference the chart rendered.
    pub image: String,
    /// `args` of the container, if any.
    pub args: Vec<String>,
    /// Environment, references resolved, in the order of the spec.
    pub env: Vec<(String, String)>,
    /// ConfigMap and Secret volumes.
    pub mounts: Vec<FilesMount>,
    /// emptyDir volumes.
    pub scratch: Vec<Scratch>,
    /// `runAsUser`, `runAsGroup` (container over pod).
    pub user: Option<(u64, u64)>,
    /// Pod `fsGroup`: a supplementary group of the process.
    pub fs_group: Option<u64>,
    /// `readOnlyRootFilesystem`.
    pub read_only_root: bool,
    /// `capabilities.drop` contains `ALL`.
    pub drops_all_capabilities: bool,
    /// `allowPrivilegeEscalation: false`.
    pub no_new_privileges: bool,
    /// `resources.limits.memory`, in podman's spelling.
    pub memory_limit: Option<String>,
    /// `resources.limits.cpu`, in CPUs.
    pub cpu_limit: Option<f64>,
    /// `terminationGracePeriodSeconds` (Kubernetes' default is 30 s).
    pub grace: Duration,
    /// The first `containerPort`.
    pub port: Option<u16>,
    /// `readinessProbe.httpGet.path`.
    pub readiness_path: Option<String>,
}

/// The container named `name` of the Deployment among `docs` that runs it.
pub fn deployment_container(docs: &[Value], name: &str) -> Result<Container> {
    let pod = docs
        .iter()
        .filter(|doc| doc["kind"] == "Deployment")
        .map(|doc| &doc["spec"]["template"]["spec"])
        .find(|pod| containers(pod).iter().any(|c| c["name"] == name))
        .with_context(|| format!("the render has no Deployment with a container `{name}`"))?;
    from_pod_spec(pod, name, docs)
}

/// The container named `name` of the `helm test` hook Pod among `docs`.
pub fn test_pod_container(docs: &[Value], name: &str) -> Result<Container> {
    let pod = docs
        .iter()
        .filter(|doc| {
            doc["kind"] == "Pod" && doc["metadata"]["annotations"]["helm.sh/hook"] == "test"
        })
        .map(|doc| &doc["spec"])
        .find(|pod| containers(pod).iter().any(|c| c["name"] == name))
        .with_context(|| format!("the render has no `helm test` Pod with a container `{name}`"))?;
    from_pod_spec(pod, name, docs)
}

fn containers(pod: &Value) -> Vec<Value> {
    pod["containers"].as_array().cloned().unwrap_or_default()
}

fn from_pod_spec(pod: &Value, name: &str, docs: &[Value]) -> Result<Container> {
    let container = containers(pod)
        .into_iter()
        .find(|c| c["name"] == name)
        .expect("the caller found it");
    let pod_security = &pod["securityContext"];
    let security = &container["securityContext"];
    let id = |key: &str| {
        security[key]
            .as_u64()
            .or_else(|| pod_security[key].as_u64())
    };
    let user = match (id("runAsUser"), id("runAsGroup")) {
        (Some(user), group) => Some((user, group.unwrap_or(user))),
        (None, _) => None,
    };
    let mut env = Vec::new();
    for entry in container["env"].as_array().into_iter().flatten() {
        let key = entry["name"]
            .as_str()
            .context("an env entry without a name")?
            .to_owned();
        let value = env_value(entry, docs).with_context(|| format!("env {key}"))?;
        if let Some(value) = value {
            env.push((key, value));
        }
    }
    let volumes = pod["volumes"].as_array().cloned().unwrap_or_default();
    let mut mounts = Vec::new();
    let mut scratch = Vec::new();
    for mount in container["volumeMounts"].as_array().into_iter().flatten() {
        let volume_name = mount["name"]
            .as_str()
            .context("a volumeMount without a name")?;
        let path = mount["mountPath"]
            .as_str()
            .context("a volumeMount without a mountPath")?
            .to_owned();
        if mount.get("subPath").is_some() {
            bail!("volumeMount {volume_name}: subPath is not supported here");
        }
        let volume = volumes
            .iter()
            .find(|v| v["name"] == volume_name)
            .with_context(|| format!("volumeMount {volume_name} names no volume"))?;
        if let Some(empty) = volume.get("emptyDir") {
            scratch.push(Scratch {
                path,
                size: empty["sizeLimit"].as_str().map(podman_size),
            });
        } else if let Some(config_map) = volume.get("configMap") {
            let data = object_data(docs, "ConfigMap", &config_map["name"])?;
            mounts.push(files_mount(volume_name, path, data, &config_map["items"])?);
        } else if let Some(secret) = volume.get("secret") {
            let data = object_data(docs, "Secret", &secret["secretName"])?;
            mounts.push(files_mount(volume_name, path, data, &secret["items"])?);
        } else {
            bail!(
                "volume {volume_name}: only emptyDir, configMap and secret volumes are supported here"
            );
        }
    }
    let limits = &container["resources"]["limits"];
    Ok(Container {
        name: name.to_owned(),
        image: container["image"]
            .as_str()
            .context("a container without an image")?
            .to_owned(),
        args: container["args"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect(),
        env,
        mounts,
        scratch,
        user,
        fs_group: pod_security["fsGroup"].as_u64(),
        read_only_root: security["readOnlyRootFilesystem"] == true,
        drops_all_capabilities: security["capabilities"]["drop"]
            .as_array()
            .is_some_and(|drop| drop.iter().any(|c| c == "ALL")),
        no_new_privileges: security["allowPrivilegeEscalation"] == false,
        memory_limit: limits["memory"].as_str().map(podman_size),
        cpu_limit: limits["cpu"]
            .as_str()
            .and_then(cpus)
            .or(limits["cpu"].as_f64()),
        grace: Duration::from_secs(pod["terminationGracePeriodSeconds"].as_u64().unwrap_or(30)),
        port: container["ports"][0]["containerPort"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok()),
        readiness_path: container["readinessProbe"]["httpGet"]["path"]
            .as_str()
            .map(str::to_owned),
    })
}

/// A plain value, or one taken from a rendered Secret or ConfigMap; `None` for an
/// optional reference that does not resolve.
fn env_value(entry: &Value, docs: &[Value]) -> Result<Option<String>> {
    if let Some(value) = entry.get("value") {
        return Ok(Some(value.as_str().unwrap_or_default().to_owned()));
    }
    let from = &entry["valueFrom"];
    let (kind, reference) = if let Some(r) = from.get("secretKeyRef") {
        ("Secret", r)
    } else if let Some(r) = from.get("configMapKeyRef") {
        ("ConfigMap", r)
    } else {
        bail!("only value, secretKeyRef and configMapKeyRef are supported here");
    };
    let key = reference["key"]
        .as_str()
        .context("a reference without a key")?;
    let found = object_data(docs, kind, &reference["name"])
        .ok()
        .and_then(|data| data.into_iter().find(|(k, _)| k == key));
    match found {
        Some((_, bytes)) => {
            Ok(Some(String::from_utf8(bytes).with_context(|| {
                format!("{kind} key {key} is not UTF-8")
            })?))
        }
        None if reference["optional"] == true => Ok(None),
        None => bail!(
            "{kind} {} has no key {key} in this render (an existing Secret named in values is not rendered: give its value instead)",
            reference["name"]
        ),
    }
}

/// The `data` (and `stringData`) of the rendered object of `kind` named `name`,
/// decoded.
fn object_data(docs: &[Value], kind: &str, name: &Value) -> Result<Vec<(String, Vec<u8>)>> {
    let object = docs
        .iter()
        .find(|doc| doc["kind"] == kind && doc["metadata"]["name"] == *name)
        .with_context(|| format!("the render has no {kind} {name}"))?;
    let mut data = Vec::new();
    for (key, value) in object["data"].as_object().into_iter().flatten() {
        let text = value.as_str().unwrap_or_default();
        let bytes = if kind == "Secret" {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .with_context(|| format!("{kind} {name} key {key} is not base64"))?
        } else {
            text.as_bytes().to_vec()
        };
        data.push((key.clone(), bytes));
    }
    for (key, value) in object["stringData"].as_object().into_iter().flatten() {
        data.push((
            key.clone(),
            value.as_str().unwrap_or_default().as_bytes().to_vec(),
        ));
    }
    Ok(data)
}

/// A volume's files: every key, or the listed `items` under their `path`.
fn files_mount(
    volume: &str,
    path: String,
    data: Vec<(String, Vec<u8>)>,
    items: &Value,
) -> Result<FilesMount> {
    let files = match items.as_array() {
        None => data,
        Some(items) => items
            .iter()
            .map(|item| {
                let key = item["key"].as_str().unwrap_or_default();
                let target = item["path"].as_str().unwrap_or(key);
                let content = data
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.clone())
                    .with_context(|| format!("volume {volume}: no key {key}"))?;
                Ok((target.to_owned(), content))
            })
            .collect::<Result<_>>()?,
    };
    Ok(FilesMount {
        volume: volume.to_owned(),
        path,
        files,
    })
}

/// Kubernetes quantities (`64Mi`, `1Gi`, `500M`) in podman's spelling (`64m`...).
fn podman_size(quantity: &str) -> String {
    let (number, unit) = quantity.split_at(
        quantity
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(quantity.len()),
    );
    let unit = match unit {
        "Ki" | "K" | "k" => "k",
        "Mi" | "M" => "m",
        "Gi" | "G" => "g",
        "" => "b",
        other => other,
    };
    format!("{number}{unit}")
}

/// CPU quantities (`500m`, `1`, `0.5`) as a number of CPUs.
fn cpus(quantity: &str) -> Option<f64> {
    match quantity.strip_suffix('m') {
        Some(milli) => milli.parse::<f64>().ok().map(|m| m / 1000.0),
        None => quantity.parse().ok(),
    }
}

impl Container {
    /// The settings of Pod Security "restricted" that the run relies on; the
    /// error lists what the chart left out.
    pub fn require_restricted(&self) -> Result<()> {
        let mut missing = Vec::new();
        match self.user {
            Some((0, _)) | None => missing.push("a non-root runAsUser"),
            Some(_) => {}
        }
        if !self.read_only_root {
            missing.push("readOnlyRootFilesystem: true");
        }
        if !self.drops_all_capabilities {
            missing.push("capabilities.drop: [ALL]");
        }
        if !self.no_new_privileges {
            missing.push("allowPrivilegeEscalation: false");
        }
        if missing.is_empty() {
            Ok(())
        } else {
            bail!(
                "container {} does not set {}",
                self.name,
                missing.join(", ")
            )
        }
    }

    /// `podman run` arguments after `run` and before the image: the volumes'
    /// files are written under `dir`, the environment (with `overrides` last, which
    /// win) into `dir/env` so that no secret shows on a command line.
    pub fn run_options(&self, dir: &Path, overrides: &[(String, String)]) -> Result<Vec<String>> {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut options = vec!["--network".to_owned(), "host".to_owned()];
        // podman's --read-only adds tmpfs on /tmp, /var/tmp and /run; a kubelet
        // does not, so neither do we: only the pod's own emptyDirs are writable.
        if self.read_only_root {
            options.extend(["--read-only".into(), "--read-only-tmpfs=false".into()]);
        }
        if let Some((user, group)) = self.user {
            options.extend(["--user".into(), format!("{user}:{group}")]);
        }
        if let Some(group) = self.fs_group {
            options.extend(["--group-add".into(), group.to_string()]);
        }
        if self.drops_all_capabilities {
            options.extend(["--cap-drop".into(), "ALL".into()]);
        }
        if self.no_new_privileges {
            options.extend(["--security-opt".into(), "no-new-privileges".into()]);
        }
        if let Some(memory) = &self.memory_limit {
            options.extend(["--memory".into(), memory.clone()]);
        }
        if let Some(cpus) = self.cpu_limit {
            options.extend(["--cpus".into(), format!("{cpus}")]);
        }
        for scratch in &self.scratch {
            let mut spec = format!("{}:rw,mode=1777", scratch.path);
            if let Some(size) = &scratch.size {
                spec.push_str(&format!(",size={size}"));
            }
            options.extend(["--tmpfs".into(), spec]);
        }
        for mount in &self.mounts {
            let host = dir.join(&mount.volume);
            fs::create_dir_all(&host)?;
            for (file, content) in &mount.files {
                fs::write(host.join(file), content)
                    .with_context(|| format!("cannot write {}", host.join(file).display()))?;
            }
            options.extend([
                "--volume".into(),
                format!("{}:{}:ro", host.display(), mount.path),
            ]);
        }
        let mut env: Vec<(String, String)> = self
            .env
            .iter()
            .filter(|(key, _)| !overrides.iter().any(|(k, _)| k == key))
            .cloned()
            .collect();
        env.extend(overrides.iter().cloned());
        let mut lines = String::new();
        for (key, value) in &env {
            if value.contains('\n') {
                bail!("env {key} spans lines, which an env file cannot carry");
            }
            lines.push_str(&format!("{key}={value}\n"));
        }
        let env_file = dir.join("env");
        fs::write(&env_file, lines)?;
        options.extend(["--env-file".into(), env_file.display().to_string()]);
        Ok(options)
    }
}

#[cfg(test)]
mod tests;
