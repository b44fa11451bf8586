//! The apps' run: each against the loopback services (configured through chart
//! values, so that the rendered config carries them), readiness, one real
//! request per protocol, memory, then SIGTERM and a clean exit in the grace period.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::container::{Started, free_port, render, rss_kib};
use super::{Row, tail};
use crate::http::send_json;
use crate::images::{pod, podman};
use crate::{bench, cmd, paths};

/// What an app needs from the loopback services, as chart values (so that the
/// rendered config and environment carry it, as they would in a cluster), and
/// what to prepare before it starts.
fn local_values(name: &str, database: &str) -> Result<Vec<String>> {
    Ok(match name {
        "http-rest-api" | "grpc-microservice" => Vec::new(),
        "sql-application" => vec![
            "postgresql.enabled=false".into(),
            "external.host=127.0.0.1".into(),
            "external.port=5432".into(),
            format!("external.database={database}"),
            "external.user=postgres".into(),
            "external.password=postgres".into(),
        ],
        "redis-cache" => vec![
            "redis.enabled=false".into(),
            "external.host=127.0.0.1".into(),
            "external.port=6379".into(),
            format!("external.existingSecret={LOCAL_REDIS_SECRET}"),
            "config.redis.key_prefix=images-check:".into(),
        ],
        // Fixed names: a rerun reuses them, nothing piles up on the shared broker.
        "kafka-streaming" => vec![
            "kafka.enabled=false".into(),
            "external.bootstrapServers=127.0.0.1:9092".into(),
            "config.kafka.input_topic=images-check-events".into(),
            "config.kafka.output_topic=images-check-events-processed".into(),
            "config.kafka.dead_letter_topic=images-check-events-dlq".into(),
            "config.kafka.group_id=images-check".into(),
        ],
        // Its own Redis on loopback; its hops are not reachable here (the request
        // below stops before them).
        "checkout" => vec![
            "redis.host=127.0.0.1".into(),
            "redis.port=6379".into(),
            format!("redis.existingSecret={LOCAL_REDIS_SECRET}"),
            "config.redis.key_prefix=images-check-checkout:".into(),
        ],
        other => bail!(
            "no run check for the app {other}: add its values and request to {}",
            file!()
        ),
    })
}

/// The Secret an operator would create for the loopback Redis, which has no
/// password; the Redis apps name it in `existingSecret` (chart values cannot give
/// an empty password: the chart generates one then).
const LOCAL_REDIS_SECRET: &str = "images-check-local-redis";

/// Objects that exist before the release in a cluster (an operator's Secret), added
/// to the render so that the container's references resolve as a kubelet's would.
fn operator_objects(name: &str) -> Vec<Value> {
    match name {
        "redis-cache" | "checkout" => vec![json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": LOCAL_REDIS_SECRET},
            "stringData": {"password": ""},
        })],
        _ => Vec::new(),
    }
}

/// One real request per protocol, after readiness.
fn exercise(name: &str, base: &str, port: u16, work: &Path) -> Result<String> {
    match name {
        "http-rest-api" => {
            let page = send_json("GET", base, "/api/v1/products?limit=1", &[], None, 200)?;
            Ok(format!(
                "GET /api/v1/products: {} item(s)",
                page["items"].as_array().map_or(0, Vec::len)
            ))
        }
        "sql-application" => {
            send_json("GET", base, "/api/v1/products?limit=1", &[], None, 200)?;
            Ok("GET /api/v1/products from PostgreSQL (migrated at start)".into())
        }
        "redis-cache" => {
            // The second read must come from Redis; a Redis outage would still
            // answer 200 (from the origin), so the counters decide.
            send_json("GET", base, "/api/v1/products/7", &[], None, 200)?;
            send_json("GET", base, "/api/v1/products/7", &[], None, 200)?;
            let stats = send_json("GET", base, "/api/v1/stats", &[], None, 200)?;
            let cache = &stats["cache"];
            if cache["hits"].as_u64().unwrap_or(0) < 1
                || cache["redis_errors"] != 0
                || cache["bypassed"] != 0
            {
                bail!("two reads of one product were not served through Redis: {cache}");
            }
            Ok(format!(
                "GET /api/v1/products/7 twice: {} hit(s) from Redis",
                cache["hits"]
            ))
        }
        "kafka-streaming" => {
            let event =
                json!({"type": "images.check", "source": "xtask", "payload": {"image": true}});
            send_json("POST", base, "/api/v1/events", &[], Some(&event), 202)?;
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let stats = send_json("GET", base, "/api/v1/consumer/stats", &[], None, 200)?;
                if stats["processed"].as_u64().unwrap_or(0) >= 1 {
                    return Ok("POST /api/v1/events (acks=all), consumed and processed".into());
                }
                if Instant::now() > deadline {
                    bail!("the event was produced but not processed within 60s: {stats}");
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        }
        "grpc-microservice" => {
            grpc_health(port, work)?;
            Ok("grpc.health.v1.Health/Check(inventory.v1.Inventory): SERVING".into())
        }
        "checkout" => {
            // Ready means its Redis answered; a checkout without a key is refused
            // before any hop, as problem+json.
            let body = json!({"customer_id": 1});
            let problem = send_json(
                "POST",
                base,
                "/api/v1/checkout",
                &[("authorization", "Bearer images-check")],
                Some(&body),
                400,
            )?;
            Ok(format!(
                "POST /api/v1/checkout without a key: 400 {}",
                problem["type"]
            ))
        }
        other => bail!("no request for {other}"),
    }
}

/// The k6 script of [`grpc_health`]: one call, and k6 fails unless it answered SERVING.
const GRPC_HEALTH_SCRIPT: &str = include_str!("grpc-health.js");

/// `grpc.health.v1.Health/Check` naming the service (`Check("")` answers
/// NOT_FOUND in poem-grpc), over h2c, with k6's gRPC client.
fn grpc_health(port: u16, work: &Path) -> Result<()> {
    let script = work.join("grpc-health.js");
    fs::write(&script, GRPC_HEALTH_SCRIPT)?;
    let proto = paths::root().join("apps/grpc-microservice/tests/proto");
    cmd::output(
        cmd::new("k6")
            .args(["run", "--quiet", "--no-color", "-e"])
            .arg(format!("TARGET=127.0.0.1:{port}"))
            .arg("-e")
            .arg(format!("PROTO_DIR={}", proto.display()))
            .arg(&script),
    )
    .context("the gRPC health check failed")?;
    Ok(())
}

pub(super) fn run_app(name: &str, image: &str, work: &Path, row: &mut Row) -> Result<()> {
    let database = format!("images_check_{}", std::process::id());
    let _database = (name == "sql-application")
        .then(|| Database::create(&database))
        .transpose()?;
    let mut docs = render(name, &local_values(name, &database)?)?;
    docs.extend(operator_objects(name));
    let spec = pod::deployment_container(&docs, name)?;
    let port = free_port()?;
    // The one departure from the chart: the port, since the host network is shared.
    let overrides = vec![("APP__SERVER__PORT".to_owned(), port.to_string())];
    let started = Instant::now();
    let running = Started::start(name, image, &spec, work, &overrides)?;
    let base = format!("http://127.0.0.1:{port}");
    let readiness = spec.readiness_path.as_deref().unwrap_or("/readyz");
    let outcome = (|| -> Result<String> {
        loop {
            if let Some(code) = running.exit_code()? {
                bail!("exited with {code} before it was ready");
            }
            if send_json("GET", &base, readiness, &[], None, 200).is_ok() {
                break;
            }
            if started.elapsed() > Duration::from_secs(90) {
                bail!("{readiness} did not answer 200 within 90s");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        row.ready = Some(started.elapsed());
        let note = exercise(name, &base, port, work)?;
        let pid = running.pid()?;
        row.rss_kib = Some(rss_kib(pid)?);
        row.peak_rss_kib = Some(bench::peak_rss_kib(pid)?);
        cmd::output(podman::podman().args(["kill", "--signal", "TERM", &running.container]))?;
        let (code, took) = running.wait_exit(spec.grace)?;
        row.stopped = Some(took);
        row.grace = Some(spec.grace);
        if code != 0 {
            bail!("exited with {code} after SIGTERM");
        }
        Ok(note)
    })();
    let (stdout, stderr) = running.logs(name)?;
    let note =
        outcome.with_context(|| format!("its log:\n{}", tail(&format!("{stdout}{stderr}"), 30)))?;
    check_json_logs(&stdout)?;
    row.note = note;
    Ok(())
}

/// Every line the app printed is a JSON object (structured logs).
fn check_json_logs(stdout: &str) -> Result<()> {
    let lines: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        bail!("the app logged nothing to stdout");
    }
    if let Some(line) = lines
        .iter()
        .find(|l| serde_json::from_str::<Value>(l).map_or(true, |v| !v.is_object()))
    {
        bail!("a log line is not a JSON object: {line}");
    }
    Ok(())
}

/// A database of the shared PostgreSQL for one check run, dropped afterwards.
struct Database {
    name: String,
}

impl Database {
    const ADMIN_URL: &'static str =
        "postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable";

    fn create(name: &str) -> Result<Self> {
        let database = Self {
            name: name.to_owned(),
        };
        database.psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
        database.psql(&format!("CREATE DATABASE {name}"))?;
        Ok(database)
    }

    fn psql(&self, sql: &str) -> Result<()> {
        cmd::output(cmd::new("psql").args([
            Self::ADMIN_URL,
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-c",
            sql,
        ]))
        .map(|_| ())
        .context("is PostgreSQL up? (`cargo xtask services up`)")
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = self.psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_must_be_json_objects() {
        check_json_logs("{\"level\":\"INFO\"}\n\n{\"level\":\"WARN\"}\n").unwrap();
        let err = check_json_logs("{\"level\":\"INFO\"}\nplain text\n").unwrap_err();
        assert!(err.to_string().contains("plain text"), "{err}");
        assert!(check_json_logs("").is_err());
    }

    #[test]
    fn every_app_of_the_registry_has_its_values_and_request() {
        for app in crate::apps::existing() {
            local_values(app.name, "db").unwrap();
        }
        assert!(local_values("checkout-v2", "db").is_err());
    }

    /// Both Redis apps' renders resolve their password to the operator's empty
    /// one; without that Secret the render leaves their reference dangling (the
    /// failure checkout's first image check met).
    #[test]
    fn the_redis_apps_password_comes_from_the_operators_secret() {
        // A copy: `helm dependency build` writes into the chart.
        let dir = paths::target().join("images-check-render");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        for chart in ["obi-examples-lib", "redis-cache", "checkout"] {
            crate::charts::copy_chart(chart, &dir);
        }
        for name in ["redis-cache", "checkout"] {
            let values = local_values(name, "db").unwrap();
            let mut docs = super::super::container::render_dir(&dir.join(name), &values).unwrap();
            let err = pod::deployment_container(&docs, name).unwrap_err();
            assert!(
                format!("{err:#}").contains(LOCAL_REDIS_SECRET),
                "{name}: {err:#}"
            );
            docs.extend(operator_objects(name));
            let spec = pod::deployment_container(&docs, name).unwrap();
            let password = spec.env.iter().find(|(k, _)| k == "APP__REDIS__PASSWORD");
            assert_eq!(password.map(|(_, v)| v.as_str()), Some(""), "{name}");
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}
