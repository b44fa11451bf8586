//! The repository rules that [`super`] enforces, as data: which crate may be named
//! where, which dependencies no app may reach, the file-size ceiling and its
//! exceptions, and the ratchet of known violations that may only shrink.

/// Where a crate may be named (`krate::...`, `use krate`), and who may depend on it.
#[derive(Debug)]
pub struct ImportRule {
    /// The rule's name in messages and in [`KNOWN_VIOLATIONS`].
    pub id: &'static str,
    /// The crate as Rust paths spell it (`poem_grpc`).
    pub krate: &'static str,
    /// The crate as `Cargo.toml` spells it (`poem-grpc`).
    pub package: &'static str,
    /// Where it may be named: `dir/` covers a directory, `dir/module` covers
    /// `dir/module.rs` and `dir/module/`. A package may depend on the crate only if
    /// one of these paths is inside it.
    pub allowed: &'static [&'static str],
    /// Why, for the message.
    pub why: &'static str,
}

/// Which backing-service and protocol crates may be named where.
pub const IMPORTS: &[ImportRule] = &[
    ImportRule {
        id: "sqlx-only-in-store",
        krate: "sqlx",
        package: "sqlx",
        allowed: &[
            "apps/sql-application/src/store",
            "apps/sql-application/tests/",
            "crates/test-support/src/",
        ],
        why: "only sql-application's store modules talk to PostgreSQL; the rest takes domain types and store errors",
    },
    ImportRule {
        id: "redis-only-in-store",
        krate: "redis",
        package: "redis",
        allowed: &[
            "apps/redis-cache/src/store",
            "apps/redis-cache/tests/",
            "apps/checkout/src/store",
            "apps/checkout/tests/",
            "crates/test-support/src/",
        ],
        why: "only redis-cache's and checkout's store modules talk to Redis",
    },
    ImportRule {
        id: "rdkafka-only-in-store",
        krate: "rdkafka",
        package: "rdkafka",
        allowed: &[
            "apps/kafka-streaming/src/store",
            "apps/kafka-streaming/tests/",
            "crates/test-support/src/",
        ],
        why: "only kafka-streaming's store modules talk to Kafka",
    },
    ImportRule {
        id: "poem-grpc-only-in-grpc-apps",
        krate: "poem_grpc",
        package: "poem-grpc",
        allowed: &[
            "apps/grpc-microservice/",
            "apps/checkout/src/proto",
            "apps/checkout/src/hops/inventory",
            "crates/bench-baselines/src/bin/grpc-echo.rs",
        ],
        why: "gRPC is the gRPC apps' protocol (and the gRPC baseline's, and checkout's inventory client); the others speak HTTP",
    },
];

/// Crates that must not be in the dependency graph of some packages (`Cargo.lock`).
#[derive(Debug)]
pub struct DependencyRule {
    /// The rule's name in messages and in [`KNOWN_VIOLATIONS`].
    pub id: &'static str,
    /// Whose graphs: `"<apps>"` stands for every app of `apps.toml`.
    pub roots: &'static [&'static str],
    /// Forbidden package names; a trailing `*` matches a prefix.
    pub forbidden: &'static [&'static str],
    /// Packages whose own dependencies are not followed (a reason is in `why`).
    pub through: &'static [&'static str],
    /// Why, for the message.
    pub why: &'static str,
}

/// Stands for every app of the registry in [`DependencyRule::roots`].
pub const APPS: &str = "<apps>";

/// What no app may link.
pub const DEPENDENCIES: &[DependencyRule] = &[
    DependencyRule {
        id: "no-opentelemetry",
        roots: &[APPS, "service-kit", "test-support", "telemetry-check"],
        forbidden: &["opentelemetry*"],
        through: &[],
        why: "all telemetry is OBI's: an app with an OpenTelemetry SDK would export its own, and OBI skips apps that do",
    },
    DependencyRule {
        id: "plaintext-only",
        roots: &[APPS, "service-kit"],
        forbidden: &[
            "rustls",
            "native-tls",
            "openssl",
            "openssl-sys",
            "tokio-rustls",
            "tokio-native-tls",
            "hyper-rustls",
            "hyper-tls",
        ],
        // poem-grpc always links rustls for its client's https:// URLs; the gRPC
        // app serves and calls h2c only (its tests and chart say so).
        through: &["poem-grpc"],
        why: "OBI cannot see inside TLS: every app protocol is plaintext",
    },
    DependencyRule {
        id: "no-mocks",
        roots: &[
            APPS,
            "service-kit",
            "test-support",
            "telemetry-check",
            "xtask",
        ],
        forbidden: &["mockall", "mockito", "wiremock", "httpmock", "faux"],
        through: &[],
        why: "tests talk to real PostgreSQL, Redis, Kafka, Prometheus and Jaeger, never mocks",
    },
];

/// The longest a `.rs` file may be, in lines, tests included. About a screenful of
/// scrolling per concern: beyond it a file usually holds two reasons to change.
pub const MAX_LINES: usize = 500;

/// Files allowed to be longer than [`MAX_LINES`], and why.
pub const LONG_FILES: &[(&str, &str)] = &[];

/// Violations on main when the rules were written, by rule and file: the app
/// refactor (issue 19) removes them. The list may only shrink: a violation not here
/// fails the tidy test, and so does an entry that no longer is one.
pub const KNOWN_VIOLATIONS: &[(&str, &str)] = &[];
