//! Running an image the way its chart would: the chart rendered with helm, its
//! container's spec turned into `podman run` options ([`pod`]), and the
//! container's state, exit, logs and memory read back.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::images::pod::Container;
use crate::images::{out_dir, podman};
use crate::{cmd, paths};

/// The release name and namespace the charts are rendered with.
const RELEASE: &str = "images-check";

/// Renders `chart` as the check installs it and returns its documents.
pub(super) fn render(chart: &str, values: &[String]) -> Result<Vec<Value>> {
    render_dir(&paths::root().join("charts").join(chart), values)
}

/// [`render`] of the chart in `dir` (its `file://` dependencies beside it).
pub(super) fn render_dir(dir: &Path, values: &[String]) -> Result<Vec<Value>> {
    cmd::output(
        cmd::new("helm")
            // `update`, as the chart gate does: a lock file left by an older
            // Chart.yaml (both are ignored) is rewritten, not refused.
            .args(["dependency", "update", "--skip-refresh"])
            .arg(dir),
    )?;
    let mut command = cmd::new("helm");
    command.args(["template", RELEASE]).arg(dir).args([
        "--namespace",
        RELEASE,
        "--set",
        "global.image.registry=localhost",
    ]);
    for value in values {
        command.args(["--set", value]);
    }
    let text = cmd::output(&mut command)?;
    documents(&text)
}

/// The non-empty documents of a multi-document YAML stream.
pub(super) fn documents(text: &str) -> Result<Vec<Value>> {
    use serde::Deserialize;
    let mut docs = Vec::new();
    for document in serde_yaml_ng::Deserializer::from_str(text) {
        let value =
            Value::deserialize(document).context("helm printed YAML that does not parse")?;
        if !value.is_null() {
            docs.push(value);
        }
    }
    Ok(docs)
}

/// A container started by the check; removed (with its volumes' files) when dropped.
pub(super) struct Started {
    /// The container's name.
    pub container: String,
}

impl Started {
    pub(super) fn start(
        name: &str,
        image: &str,
        spec: &Container,
        work: &Path,
        overrides: &[(String, String)],
    ) -> Result<Self> {
        same_image(&spec.image, image)?;
        spec.require_restricted()?;
        let container = format!("obi-images-check-{name}-{}", std::process::id());
        let _ = podman::podman()
            .args(["rm", "--force", "--ignore", &container])
            .output();
        let mut command = podman::podman();
        command
            .args(["run", "--detach", "--name", &container])
            .args(podman::ulimit_args())
            .args(spec.run_options(work, overrides)?)
            .arg(image)
            .args(&spec.args);
        cmd::output(&mut command)?;
        Ok(Self { container })
    }

    pub(super) fn state(&self) -> Result<Value> {
        let out =
            cmd::output(podman::podman().args(["inspect", "--format", "json", &self.container]))?;
        let list: Value = serde_json::from_str(&out)?;
        Ok(list[0]["State"].clone())
    }

    pub(super) fn pid(&self) -> Result<u32> {
        let state = self.state()?;
        state["Pid"]
            .as_u64()
            .filter(|pid| *pid > 0)
            .and_then(|pid| u32::try_from(pid).ok())
            .with_context(|| format!("{} is not running: {state}", self.container))
    }

    /// The exit code once the container has stopped, `None` while it runs.
    pub(super) fn exit_code(&self) -> Result<Option<i64>> {
        let state = self.state()?;
        Ok(
            (state["Status"] == "exited" || state["Status"] == "stopped")
                .then(|| state["ExitCode"].as_i64().unwrap_or(-1)),
        )
    }

    /// Waits up to `limit` for the exit; the code and how long it took.
    pub(super) fn wait_exit(&self, limit: Duration) -> Result<(i64, Duration)> {
        let started = Instant::now();
        loop {
            if let Some(code) = self.exit_code()? {
                return Ok((code, started.elapsed()));
            }
            if started.elapsed() > limit {
                bail!(
                    "still running {}s after SIGTERM (the grace period)",
                    limit.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Its standard output and error, saved as `target/images/<name>.log`.
    pub(super) fn logs(&self, name: &str) -> Result<(String, String)> {
        let out = podman::podman()
            .args(["logs", &self.container])
            .output()
            .context("cannot run `podman logs`")?;
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        fs::write(
            out_dir().join(format!("{name}.log")),
            format!("{stdout}{stderr}"),
        )?;
        Ok((stdout, stderr))
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = podman::podman()
            .args(["rm", "--force", "--ignore", "--time", "0", &self.container])
            .output();
    }
}

/// The chart must render the very reference the build tagged: that is the name a
/// kind user loads and the nodes look up.
pub(super) fn same_image(rendered: &str, built: &str) -> Result<()> {
    if rendered != built {
        bail!(
            "the chart renders the image {rendered} but the build tagged {built}: \
             images loaded into kind would not be found"
        );
    }
    Ok(())
}

/// A free TCP port on loopback, for the app to listen on: the host network is
/// shared with everyone's tests and demos.
pub(super) fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
/// `VmRSS` of a process, in KiB.
pub(super) fn rss_kib(pid: u32) -> Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .context("no VmRSS line")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::reference;

    #[test]
    fn the_rendered_image_must_be_the_built_one() {
        same_image(&reference("redis-cache"), &reference("redis-cache")).unwrap();
        let err = same_image(
            "ghcr.io/obi-examples/redis-cache:0.1.0",
            &reference("redis-cache"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("kind"), "{err}");
    }
}
