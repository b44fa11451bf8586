//! Behaviour of values, proven by rendering: a mistyped key or a wrong type fails
//! `helm template` (and so `helm install`) with a message naming the key, through
//! the umbrella and standalone; global image settings reach our images and only
//! ours; switches really remove what they switch off.

use anyhow::{Context, Result};
use serde_json::Value;

use super::helm;
use super::inventory::Chart;
use super::render::{UMBRELLA, documents};

/// A render expected to fail with a message containing `needle`.
struct MustFail {
    chart: &'static str,
    set: &'static [&'static str],
    needle: &'static str,
}

const MUST_FAIL: &[MustFail] = &[
    MustFail {
        chart: UMBRELLA,
        set: &["http.replicaCout=2"],
        needle: "replicaCout",
    },
    MustFail {
        chart: UMBRELLA,
        set: &["globl.load.profile=smoke"],
        needle: "globl",
    },
    MustFail {
        chart: UMBRELLA,
        set: &["global.load.profile=heavy"],
        needle: "profile",
    },
    MustFail {
        chart: "http-rest-api",
        set: &["load.profil=smoke"],
        needle: "profil",
    },
    MustFail {
        chart: "http-rest-api",
        set: &["replicaCount=two"],
        needle: "replicaCount",
    },
    MustFail {
        chart: "http-rest-api",
        set: &["faults.latency.rate=2"],
        needle: "rate",
    },
    MustFail {
        chart: "otel-lgtm",
        set: &["image.tag=latest"],
        needle: "tag",
    },
];

fn find<'a>(charts: &'a [Chart], name: &str) -> Result<&'a Chart> {
    charts
        .iter()
        .find(|c| c.name == name)
        .with_context(|| format!("no chart charts/{name}"))
}

/// Runs every values test; one problem per failed expectation.
pub fn run(charts: &[Chart]) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for case in MUST_FAIL {
        let out = helm::template(find(charts, case.chart)?, None, case.set)?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        let shown = format!(
            "helm template charts/{} --set {}",
            case.chart,
            case.set.join(",")
        );
        if out.status.success() {
            problems.push(format!("`{shown}` succeeded; the schema must reject it"));
        } else if !stderr.contains(case.needle) {
            problems.push(format!(
                "`{shown}` failed without naming `{}`: {}",
                case.needle,
                stderr.trim()
            ));
        }
    }
    problems.extend(global_images(find(charts, UMBRELLA)?)?);
    problems.extend(switches(find(charts, "http-rest-api")?)?);
    Ok(problems)
}

fn render(chart: &Chart, set: &[&str]) -> Result<Vec<Value>> {
    let out = helm::template(chart, None, set)?;
    anyhow::ensure!(
        out.status.success(),
        "helm template charts/{} --set {} failed: {}",
        chart.name,
        set.join(","),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    documents(&String::from_utf8_lossy(&out.stdout))
}

/// Every container image of every pod template in `docs`.
fn images(docs: &[Value]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack: Vec<&Value> = docs.iter().collect();
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let (Some(Value::String(image)), Some(_)) = (map.get("image"), map.get("name")) {
                    found.push(image.clone());
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    found.sort();
    found
}

fn global_images(umbrella: &Chart) -> Result<Vec<String>> {
    let docs = render(
        umbrella,
        &[
            "global.image.registry=registry.example.com",
            "global.image.tag=9.9.9",
            "lgtm.enabled=true",
        ],
    )?;
    let mut problems = Vec::new();
    for image in images(&docs) {
        let ours = image.contains("/obi-examples/");
        let overridden = image.starts_with("registry.example.com/") && image.ends_with(":9.9.9");
        if ours != overridden {
            problems.push(format!(
                "with global.image.registry/tag set, image {image} {}",
                if ours {
                    "kept its registry or tag"
                } else {
                    "was wrongly rewritten"
                }
            ));
        }
    }
    Ok(problems)
}

fn kinds(docs: &[Value]) -> Vec<String> {
    docs.iter()
        .map(|d| {
            format!(
                "{} {}",
                d["kind"].as_str().unwrap_or("?"),
                d["metadata"]["name"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

fn switches(app: &Chart) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let off = render(
        app,
        &[
            "load.enabled=false",
            "dashboard.enabled=false",
            "tests.enabled=false",
        ],
    )?;
    for object in kinds(&off) {
        if object.ends_with("-k6") || object.ends_with("-dashboard") || object.starts_with("Pod ") {
            problems.push(format!("{object} rendered although switched off"));
        }
    }
    let extras = render(
        app,
        &[
            "autoscaling.enabled=true",
            "podDisruptionBudget.enabled=true",
        ],
    )?;
    let rendered = kinds(&extras);
    for kind in ["HorizontalPodAutoscaler", "PodDisruptionBudget"] {
        if !rendered.iter().any(|o| o.starts_with(kind)) {
            problems.push(format!("{kind} missing although switched on"));
        }
    }
    if rendered.iter().any(|o| o.starts_with("Deployment")) {
        let deployment = extras
            .iter()
            .find(|d| d["kind"] == "Deployment")
            .expect("checked");
        if !deployment["spec"]["replicas"].is_null() {
            problems.push("Deployment sets replicas although the HPA owns them".into());
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn images_are_found_in_containers_only() {
        let docs = [json!({
            "kind": "Deployment",
            "metadata": {"name": "x", "annotations": {"image": "not-a-container"}},
            "spec": {"template": {"spec": {
                "initContainers": [{"name": "init", "image": "a:1"}],
                "containers": [{"name": "app", "image": "b:2"}]
            }}}
        })];
        assert_eq!(images(&docs), ["a:1", "b:2"]);
    }
}
