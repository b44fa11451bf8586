//! The registry on the repository's own sources is clean, and each way a source
//! can fall behind its catalog fails it, naming what is missing.

use super::*;

fn sources() -> Sources {
    load().expect("the registry's sources load")
}

fn problems(sources: &Sources) -> Vec<String> {
    build(sources).expect("the registry builds").1
}

/// The sources of `app`, to mutate.
fn app<'a>(sources: &'a mut Sources, app: &str) -> &'a mut AppSources {
    sources
        .apps
        .iter_mut()
        .find(|a| a.app == app)
        .unwrap_or_else(|| panic!("no app {app}"))
}

fn assert_fails(sources: &Sources, expected: &str) {
    let problems = problems(sources);
    assert!(
        problems.iter().any(|p| p.contains(expected)),
        "expected a problem containing {expected:?}, got {problems:#?}"
    );
}

#[test]
fn every_fault_of_every_catalog_has_its_spec_panel_values_key_and_guide() {
    let sources = sources();
    let (scenarios, problems) = build(&sources).unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
    for app in &sources.apps {
        let names: Vec<_> = scenarios
            .iter()
            .filter(|s| s.app == app.app)
            .map(|s| s.name.as_str())
            .collect();
        assert!(
            names.starts_with(&["latency", "errors"]) && names.len() > 2,
            "{}: {names:?}",
            app.app
        );
    }
    let n_plus_one = scenarios
        .iter()
        .find(|s| s.app == "sql-application" && s.name == "n_plus_one")
        .expect("the sql-application catalog is read");
    assert_eq!(n_plus_one.header.1, "n_plus_one");
    assert!(n_plus_one.k6.as_deref().unwrap().contains("listOrders"));
    assert!(n_plus_one.spec.as_ref().unwrap().checks.len() >= 2);
}

#[test]
fn a_catalog_entry_without_a_spec_fails() {
    let mut sources = sources();
    app(&mut sources, "sql-application")
        .specs
        .remove("sql-application-n_plus_one.yaml");
    assert_fails(
        &sources,
        "sql-application `n_plus_one`: no symptom spec charts/sql-application/telemetry/sql-application-n_plus_one.yaml",
    );
}

#[test]
fn a_new_catalog_entry_fails_until_spec_values_panel_and_guide_follow() {
    let mut sources = sources();
    let redis = app(&mut sources, "redis-cache");
    let (_, text) = redis.catalog.as_mut().unwrap();
    *text = text.replacen(
        "pub const CATALOG: Catalog = &[",
        "pub const CATALOG: Catalog = &[\n    ScenarioInfo { name: \"big_values\", description: \"huge entries\" },",
        1,
    );
    let problems = problems(&sources);
    for missing in [
        "redis-cache `big_values`: no symptom spec",
        "redis-cache `big_values`: charts/redis-cache/values.yaml has no `faults.big_values.enabled`",
        "redis-cache `big_values`: no guide entry [big_values] in docs/scenarios/redis-cache.toml",
        "redis-cache `big_values`: no dashboard panel",
    ] {
        assert!(
            problems.iter().any(|p| p.contains(missing)),
            "{missing:?} not in {problems:#?}"
        );
    }
}

#[test]
fn a_renamed_dashboard_panel_fails() {
    let mut sources = sources();
    let sql = app(&mut sources, "sql-application");
    sql.dashboard = sql
        .dashboard
        .replace("\"SQL calls per HTTP request\"", "\"SQL per request\"");
    assert_fails(
        &sources,
        "panel \"SQL calls per HTTP request\" is not in dashboards/sql-application.json",
    );
}

#[test]
fn a_panel_that_shows_none_of_the_specs_metrics_fails() {
    let mut sources = sources();
    let sql = app(&mut sources, "sql-application");
    let guide = sql.guide.as_mut().unwrap();
    let line = guide
        .lines()
        .skip_while(|l| *l != "[n_plus_one]")
        .find(|l| l.starts_with("panels = "))
        .unwrap()
        .to_owned();
    *guide = guide.replace(&line, "panels = [\"Requests by status\"]");
    assert_fails(
        &sources,
        "sql-application `n_plus_one`: panel \"Requests by status\" queries none of the metrics its spec checks",
    );
}

#[test]
fn a_missing_guide_entry_fails_and_so_does_a_missing_guide() {
    let mut sources = sources();
    let kafka = app(&mut sources, "kafka-streaming");
    let guide = kafka.guide.clone().unwrap();
    let start = guide.find("[poison_rate]").unwrap();
    let end = guide[start + 1..]
        .find("\n[")
        .map_or(guide.len(), |at| start + 1 + at);
    kafka.guide = Some(format!("{}{}", &guide[..start], &guide[end..]));
    assert_fails(
        &sources,
        "kafka-streaming `poison_rate`: no guide entry [poison_rate] in docs/scenarios/kafka-streaming.toml",
    );

    app(&mut sources, "kafka-streaming").guide = None;
    assert_fails(&sources, "docs/scenarios/kafka-streaming.toml is missing");
}

#[test]
fn a_missing_values_key_fails() {
    let mut sources = sources();
    let http = app(&mut sources, "http-rest-api");
    http.values = http
        .values
        .replace("  slow_endpoint:\n", "  slow_endpointx:\n");
    assert_fails(
        &sources,
        "http-rest-api `slow_endpoint`: charts/http-rest-api/values.yaml has no `faults.slow_endpoint.enabled`",
    );
}

#[test]
fn specs_and_guide_entries_of_unknown_faults_fail() {
    let mut sources = sources();
    let grpc = app(&mut sources, "grpc-microservice");
    let spec = grpc.specs["grpc-microservice-deadline_storm.yaml"].clone();
    grpc.specs
        .insert("grpc-microservice-retry_storm.yaml".into(), spec);
    let guide = grpc.guide.as_mut().unwrap();
    guide.push_str("\n[retry_storm]\npanels = [\"Calls by status code\"]\n");
    assert_fails(
        &sources,
        "charts/grpc-microservice/telemetry/grpc-microservice-retry_storm.yaml: `retry_storm` is in no catalog",
    );
    assert_fails(
        &sources,
        "docs/scenarios/grpc-microservice.toml: [retry_storm] is in no catalog",
    );
}

#[test]
fn an_app_without_a_catalog_fails() {
    let mut sources = sources();
    app(&mut sources, "redis-cache").catalog = None;
    assert_fails(
        &sources,
        "apps/redis-cache/src: no `pub const CATALOG: Catalog`",
    );
}

#[test]
fn a_guide_entry_without_its_prose_fails() {
    let mut sources = sources();
    let redis = app(&mut sources, "redis-cache");
    let guide = redis.guide.as_mut().unwrap();
    *guide = guide
        .lines()
        .filter(|l| !l.starts_with("fix"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_fails(
        &sources,
        "redis-cache `hot_key`: the guide entry has no `fix`",
    );
}

#[test]
fn a_new_apps_catalog_flows_in_with_its_own_files() {
    let mut sources = sources();
    let mut ledger = app(&mut sources, "redis-cache").clone();
    ledger.app = "ledger".into();
    ledger.specs = ledger
        .specs
        .into_iter()
        .map(|(file, text)| (file.replace("redis-cache", "ledger"), text))
        .collect();
    sources.apps.push(ledger);
    let (scenarios, problems) = build(&sources).unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
    let names: Vec<_> = scenarios
        .iter()
        .filter(|s| s.app == "ledger")
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "latency",
            "errors",
            "cache_stampede",
            "hot_key",
            "ttl_too_short"
        ]
    );
}
