//! The Debian mirror for the base images, read from this machine's own apt
//! configuration at run time (never written into the repository): whatever
//! mirror `apt-get` uses here is the one mmdebstrap can reach.

use std::fs;
use std::path::Path;

use anyhow::{Result, bail};

/// The archives a base image is made from: the release, its point-release
/// updates and its security updates.
fn wanted_suites(release: &str) -> [String; 3] {
    [
        release.to_owned(),
        format!("{release}-updates"),
        format!("{release}-security"),
    ]
}

/// One `deb` source: a URI and a suite (only the `main` component is used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The archive's URI.
    pub uri: String,
    /// Its suite, e.g. `bookworm-security`.
    pub suite: String,
}

impl Source {
    /// The one-line form mmdebstrap takes as a mirror argument.
    pub fn line(&self) -> String {
        format!("deb {} {} main", self.uri, self.suite)
    }
}

/// The `main` sources of `release` that this machine's apt uses, from
/// `/etc/apt/sources.list` and `/etc/apt/sources.list.d/*.{list,sources}`.
pub fn host_sources(release: &str) -> Result<Vec<Source>> {
    let mut files = vec![Path::new("/etc/apt/sources.list").to_owned()];
    if let Ok(entries) = fs::read_dir("/etc/apt/sources.list.d") {
        let mut more: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        more.sort();
        files.extend(more);
    }
    let mut sources = Vec::new();
    for file in files {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        let name = file.to_string_lossy();
        if name.ends_with(".sources") {
            sources.extend(parse_deb822(&text));
        } else if name.ends_with(".list") {
            sources.extend(parse_one_line(&text));
        }
    }
    let chosen = choose(&sources, release);
    if !chosen.iter().any(|source| source.suite == release) {
        bail!(
            "apt on this machine has no `deb` source for Debian {release} main \
             (read /etc/apt/sources.list and /etc/apt/sources.list.d/); the base \
             images are made from that mirror"
        );
    }
    Ok(chosen)
}

/// The sources of `release` (exact suites: the release, `-updates`, `-security`)
/// with the `main` component, in their file order, without duplicates. Other
/// archives that happen to name the release (`bookworm-pgdg`, `bookworm stable`
/// of a vendor) are left out: the base images hold Debian's packages only.
pub fn choose(sources: &[(Source, Vec<String>)], release: &str) -> Vec<Source> {
    let suites = wanted_suites(release);
    let mut chosen: Vec<Source> = Vec::new();
    for (source, components) in sources {
        if suites.contains(&source.suite)
            && components.iter().any(|c| c == "main")
            && !chosen.contains(source)
        {
            chosen.push(source.clone());
        }
    }
    chosen
}

/// `deb [options] URI SUITE COMPONENT...` lines; `deb-src` and comments skipped.
pub fn parse_one_line(text: &str) -> Vec<(Source, Vec<String>)> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or_default().trim();
            let rest = line.strip_prefix("deb ")?.trim_start();
            // Options in brackets: `deb [signed-by=...] uri ...`.
            let rest = match rest.strip_prefix('[') {
                Some(options) => options.split_once(']')?.1,
                None => rest,
            };
            let mut words = rest.split_whitespace();
            let uri = words.next()?.trim_end_matches('/').to_owned();
            let suite = words.next()?.to_owned();
            let components = words.map(str::to_owned).collect();
            Some((Source { uri, suite }, components))
        })
        .collect()
}

/// deb822 stanzas (`Types:`, `URIs:`, `Suites:`, `Components:`, `Enabled:`), one
/// source per URI and suite.
pub fn parse_deb822(text: &str) -> Vec<(Source, Vec<String>)> {
    let mut sources = Vec::new();
    for stanza in text.split("\n\n") {
        let field = |name: &str| -> Vec<String> {
            stanza
                .lines()
                .filter(|line| !line.starts_with('#'))
                .find_map(|line| {
                    let (key, value) = line.split_once(':')?;
                    key.trim()
                        .eq_ignore_ascii_case(name)
                        .then(|| value.split_whitespace().map(str::to_owned).collect())
                })
                .unwrap_or_default()
        };
        if !field("Types").iter().any(|t| t == "deb")
            || field("Enabled")
                .iter()
                .any(|e| e.eq_ignore_ascii_case("no"))
        {
            continue;
        }
        let components = field("Components");
        for uri in field("URIs") {
            for suite in field("Suites") {
                sources.push((
                    Source {
                        uri: uri.trim_end_matches('/').to_owned(),
                        suite,
                    },
                    components.clone(),
                ));
            }
        }
    }
    sources
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEB822: &str = "\
Types: deb
URIs: http://mirror.invalid/debian/
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

# security
Types: deb deb-src
URIs: http://mirror.invalid/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: http://vendor.invalid/apt
Suites: bookworm-pgdg
Components: main

Types: deb
URIs: http://off.invalid/debian
Suites: bookworm
Components: main
Enabled: no
";

    fn source(uri: &str, suite: &str) -> Source {
        Source {
            uri: uri.to_owned(),
            suite: suite.to_owned(),
        }
    }

    #[test]
    fn deb822_stanzas_give_one_source_per_uri_and_suite() {
        let chosen = choose(&parse_deb822(DEB822), "bookworm");
        assert_eq!(
            chosen,
            [
                source("http://mirror.invalid/debian", "bookworm"),
                source("http://mirror.invalid/debian", "bookworm-updates"),
                source("http://mirror.invalid/debian-security", "bookworm-security"),
            ]
        );
        assert_eq!(
            chosen[2].line(),
            "deb http://mirror.invalid/debian-security bookworm-security main"
        );
    }

    #[test]
    fn one_line_sources_skip_other_archives_and_components() {
        let text = "\
# comment
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.invalid/debian bookworm main
deb-src http://mirror.invalid/debian bookworm main
deb http://vendor.invalid/linux/debian bookworm stable
deb https://vendor.invalid/apt cloud-sdk-bookworm main
deb http://mirror.invalid/debian trixie main
";
        assert_eq!(
            choose(&parse_one_line(text), "bookworm"),
            [source("http://mirror.invalid/debian", "bookworm")]
        );
    }

    #[test]
    fn a_release_without_sources_chooses_nothing() {
        assert!(choose(&parse_deb822(DEB822), "trixie").is_empty());
    }
}
