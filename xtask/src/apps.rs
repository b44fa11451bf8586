//! The five services, as the automation sees them: name, port, protocol, and where
//! their k6 scripts live. An app "exists" once its crate is in `apps/`.

use std::path::PathBuf;

use crate::paths;

/// How k6 talks to an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.1 REST.
    Http,
    /// gRPC (h2c); health and admin still answer HTTP/1.1 on the same port.
    Grpc,
}

/// One service of the shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct App {
    /// Crate, binary, chart and dashboard name.
    pub name: &'static str,
    /// Local port (design.md).
    pub port: u16,
    /// How load reaches it.
    pub protocol: Protocol,
}

/// Every service, in the order of the shop's checkout.
pub const ALL: &[App] = &[
    App {
        name: "http-rest-api",
        port: 8080,
        protocol: Protocol::Http,
    },
    App {
        name: "grpc-microservice",
        port: 50051,
        protocol: Protocol::Grpc,
    },
    App {
        name: "sql-application",
        port: 8081,
        protocol: Protocol::Http,
    },
    App {
        name: "redis-cache",
        port: 8082,
        protocol: Protocol::Http,
    },
    App {
        name: "kafka-streaming",
        port: 8083,
        protocol: Protocol::Http,
    },
];

impl App {
    /// Looks an app up by name, with an error listing the names.
    pub fn named(name: &str) -> anyhow::Result<&'static App> {
        ALL.iter().find(|app| app.name == name).ok_or_else(|| {
            let names: Vec<_> = ALL.iter().map(|app| app.name).collect();
            anyhow::anyhow!("no app `{name}`; the apps are: {}", names.join(", "))
        })
    }

    /// Whether the app's crate exists yet.
    pub fn exists(&self) -> bool {
        self.dir().join("Cargo.toml").is_file()
    }

    /// `apps/<name>`.
    pub fn dir(&self) -> PathBuf {
        paths::root().join("apps").join(self.name)
    }

    /// The app's k6 entry script, shipped in its subchart.
    pub fn k6_script(&self) -> PathBuf {
        paths::root()
            .join("charts")
            .join(self.name)
            .join("k6")
            .join("main.js")
    }

    /// Where a local run reaches it.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// The apps whose crates exist.
pub fn existing() -> Vec<&'static App> {
    ALL.iter().filter(|app| app.exists()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_name_lists_the_apps() {
        let message = App::named("http-api").unwrap_err().to_string();
        assert!(
            message.contains("http-rest-api, grpc-microservice"),
            "{message}"
        );
    }

    #[test]
    fn every_existing_app_has_its_k6_script() {
        for app in existing() {
            assert!(
                app.k6_script().is_file(),
                "{} has no {}",
                app.name,
                app.k6_script().display()
            );
        }
    }

    #[test]
    fn ports_are_distinct() {
        let mut ports: Vec<_> = ALL.iter().map(|app| app.port).collect();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), ALL.len());
    }
}
