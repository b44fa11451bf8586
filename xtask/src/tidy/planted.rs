//! Each tidy rule, shown to fail on a planted violation.

use super::checks::*;
use super::rules::{self, DependencyRule, ImportRule};
use super::{Tree, Violation, ratchet};

fn tree(sources: &[(&str, &str)]) -> Tree {
    Tree {
        sources: sources
            .iter()
            .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
            .collect(),
        ..Tree::default()
    }
}

fn at(found: &[Violation]) -> Vec<(&str, usize)> {
    found.iter().map(|v| (v.path.as_str(), v.line)).collect()
}

#[test]
fn a_file_without_a_module_doc_line_is_reported() {
    let t = tree(&[
        ("a/ok.rs", "//! Owns a.\n"),
        ("a/bad.rs", "/// Not a module doc.\nfn f() {}\n"),
    ]);
    assert_eq!(at(&module_docs(&t)), [("a/bad.rs", 1)]);
}

#[test]
fn a_file_over_the_ceiling_is_reported_unless_excused() {
    let long = "//! Long.\n".to_owned() + &"x\n".repeat(10);
    let t = tree(&[("a/long.rs", &long), ("a/short.rs", "//! Short.\n")]);
    assert_eq!(at(&file_size(&t, 10, &[])), [("a/long.rs", 11)]);
    assert!(file_size(&t, 10, &[("a/long.rs", "a table")]).is_empty());
    assert!(file_size(&t, 11, &[]).is_empty());
}

#[test]
fn a_lint_exception_needs_a_reason() {
    // One string per line, so that this file's own lines start with a quote.
    let text = concat!(
        "//! Lints.\n",
        "#[allow(dead_code)]\n",
        "fn a() {}\n",
        "#[expect(dead_code, reason = \"kept for readers\")]\n",
        "fn b() {}\n",
        "// Generated code trips every lint.\n",
        "#![allow(clippy::all)]\n",
        "#[allow(unused)] // the macro's output\n",
        "#[expect(\n",
        "    clippy::too_many_arguments,\n",
        ")]\n",
        "fn c() {}\n",
        "#[expect(\n",
        "    unused,\n",
        "    reason = \"spans lines\",\n",
        ")]\n",
    );
    let t = tree(&[("a/lints.rs", text)]);
    assert_eq!(
        at(&lint_reasons(&t)),
        [("a/lints.rs", 2), ("a/lints.rs", 9)]
    );
}

fn import_tree() -> Tree {
    let mut t = tree(&[
        ("apps/shop/src/store.rs", "//! Store.\nuse sqlx::PgPool;\n"),
        (
            "apps/shop/src/store/orders.rs",
            "//! Orders.\nsqlx::query(\"\");\n",
        ),
        (
            "apps/shop/src/routes.rs",
            "//! Routes.\n// sqlx::not_code\nlet x = mysqlx::a;\nfn f() -> sqlx::Result<()> {}\n",
        ),
        ("apps/web/src/lib.rs", "//! Web.\nuse sqlx;\n"),
        ("xtask/src/services.rs", "//! Services.\nsqlx::Pool;\n"),
    ]);
    t.manifests.insert(
        "apps/shop".into(),
        ("shop".into(), "[dependencies]\nsqlx = \"0.9\"\n".into()),
    );
    t.manifests.insert(
        "apps/web".into(),
        (
            "web".into(),
            "[package]\nname = \"web\"\n\n[dev-dependencies]\nsqlx.workspace = true\n".into(),
        ),
    );
    t.manifests
        .insert("xtask".into(), ("xtask".into(), "[dependencies]\n".into()));
    t
}

const SQLX: ImportRule = ImportRule {
    id: "sqlx-only-in-store",
    krate: "sqlx",
    package: "sqlx",
    allowed: &["apps/shop/src/store"],
    why: "store only",
};

#[test]
fn a_crate_named_outside_its_modules_is_reported_with_file_and_line() {
    let found = imports(&import_tree(), &[SQLX]);
    assert_eq!(
        at(&found),
        [
            ("apps/shop/src/routes.rs", 4),
            ("apps/web/Cargo.toml", 5),
            ("apps/web/src/lib.rs", 2),
        ],
        "{found:#?}"
    );
}

#[test]
fn allowed_paths_cover_a_module_file_and_its_directory_only() {
    let allowed = &["apps/a/src/store", "apps/a/tests/", "apps/b/src/x.rs"];
    assert!(is_allowed("apps/a/src/store.rs", allowed));
    assert!(is_allowed("apps/a/src/store/orders.rs", allowed));
    assert!(is_allowed("apps/a/tests/api/main.rs", allowed));
    assert!(is_allowed("apps/b/src/x.rs", allowed));
    assert!(!is_allowed("apps/a/src/storefront.rs", allowed));
    assert!(!is_allowed("apps/a/src/routes.rs", allowed));
}

const LOCK: &str = r#"
version = 4

[[package]]
name = "shop"
version = "0.1.0"
dependencies = ["poem", "poem-grpc"]

[[package]]
name = "poem"
version = "3.1.0"
dependencies = ["opentelemetry 0.30.0"]

[[package]]
name = "poem-grpc"
version = "0.5.0"
dependencies = ["rustls"]

[[package]]
name = "opentelemetry"
version = "0.30.0"

[[package]]
name = "rustls"
version = "0.23.0"
"#;

#[test]
fn a_forbidden_crate_in_an_apps_graph_is_reported_with_its_chain() {
    let mut t = tree(&[]);
    t.lock = LOCK.into();
    t.apps = vec!["shop".into()];
    t.manifests
        .insert("apps/shop".into(), ("shop".into(), String::new()));
    let rule = |forbidden, through| DependencyRule {
        id: "rule",
        roots: &[rules::APPS],
        forbidden,
        through,
        why: "why",
    };
    let found = dependencies(&t, &[rule(&["opentelemetry*"], &[])]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].path, "apps/shop/Cargo.toml");
    assert!(
        found[0].message.contains("shop -> poem -> opentelemetry"),
        "{found:?}"
    );
    assert_eq!(dependencies(&t, &[rule(&["rustls"], &[])]).len(), 1);
    assert!(dependencies(&t, &[rule(&["rustls"], &["poem-grpc"])]).is_empty());
}

#[test]
fn a_top_level_path_missing_from_a_map_is_reported() {
    let mut t = tree(&[]);
    t.top_level = vec!["apps".into(), "Dockerfile".into()];
    t.maps.insert(
        "README.md".into(),
        "| `apps/` | ... |\n| `Dockerfile` |".into(),
    );
    t.maps
        .insert("ARCHITECTURE.md".into(), "### `apps/`\n".into());
    let found = maps(&t);
    assert_eq!(at(&found), [("ARCHITECTURE.md", 1)]);
    assert!(found[0].message.contains("`Dockerfile`"));
}

#[test]
fn the_ratchet_fails_on_a_new_violation_and_on_a_fixed_known_one() {
    let v = |path: &str| Violation::new("file-size", path, 501, "long");
    let known = [("file-size", "a.rs"), ("file-size", "b.rs")];
    assert!(ratchet(&[v("a.rs"), v("b.rs")], &known).is_empty());
    let problems = ratchet(&[v("a.rs"), v("c.rs")], &known);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].starts_with("c.rs:501: [file-size]"));
    assert!(problems[1].contains("b.rs: [file-size] no longer broken"));
}
