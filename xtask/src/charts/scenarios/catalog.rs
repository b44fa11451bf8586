//! The apps' fault catalogs, read from their Rust source without building them: an
//! app's `pub const CATALOG: Catalog = &[ScenarioInfo { name, description }, ...]`
//! (its `&str` constants resolved), and the kit's common faults, documented in
//! `crates/service-kit/src/faults/settings.rs` as ``/// `faults.<name>`: ...`` above
//! their settings struct.
//!
//! The parser knows the one shape the catalogs are written in and fails loudly on
//! anything else, so a catalog written differently stops the gate instead of
//! silently dropping scenarios.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};

/// The kit's source, where `latency` and `errors` are documented.
pub const KIT_SETTINGS: &str = "crates/service-kit/src/faults/settings.rs";
/// What marks the catalog constant in an app's source.
pub const CATALOG_MARK: &str = "CATALOG: Catalog";

/// One scenario as a catalog declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub description: String,
}

/// The kit's common faults: every ``/// `faults.<name>`: <text>`` doc line
/// directly above a `pub struct` (through attribute lines).
pub fn kit(source: &str) -> Result<Vec<Entry>> {
    let lines: Vec<&str> = source.lines().collect();
    let mut entries = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.trim().strip_prefix("/// `faults.") else {
            continue;
        };
        let Some((name, text)) = rest.split_once("`:") else {
            continue;
        };
        let documents_struct = lines[i + 1..]
            .iter()
            .map(|l| l.trim())
            .find(|l| !l.starts_with("///") && !l.starts_with("#["))
            .is_some_and(|l| l.starts_with("pub struct"));
        let plain = name.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        if documents_struct && plain {
            entries.push(Entry {
                name: name.to_owned(),
                description: text.trim().to_owned(),
            });
        }
    }
    if entries.is_empty() {
        bail!("{KIT_SETTINGS}: no ``/// `faults.<name>`: ...`` line documents a settings struct");
    }
    Ok(entries)
}

/// The entries of the `CATALOG` constant in an app's source.
pub fn app(source: &str) -> Result<Vec<Entry>> {
    let start = source
        .find(CATALOG_MARK)
        .with_context(|| format!("no `{CATALOG_MARK}` constant"))?;
    let body = &source[start..];
    let end = body
        .find("];")
        .context("the catalog constant does not end with `];`")?;
    let body = &body[..end];
    let constants = str_constants(source);
    let mut entries = Vec::new();
    for block in body.split("ScenarioInfo").skip(1) {
        let name = field(block, "name").context("a ScenarioInfo without `name`")?;
        let name = match literal(name) {
            Some(text) => text,
            None => constants
                .get(name)
                .cloned()
                .with_context(|| format!("`name: {name}` is not a `&str` constant of the file"))?,
        };
        let description = field(block, "description")
            .and_then(literal)
            .with_context(|| format!("scenario `{name}`: `description` is not a string literal"))?;
        entries.push(Entry { name, description });
    }
    if entries.is_empty() {
        bail!("the catalog constant lists no ScenarioInfo");
    }
    Ok(entries)
}

/// `pub const NAME: &str = "value";` of a file.
fn str_constants(source: &str) -> BTreeMap<&str, String> {
    source
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("pub const ")?;
            let (name, value) = rest.split_once(": &str = ")?;
            Some((name.trim(), literal(value.trim_end_matches(';'))?))
        })
        .collect()
}

/// The raw text after `<key>:` in a struct literal, up to the field's end.
fn field<'a>(block: &'a str, key: &str) -> Option<&'a str> {
    let at = block.find(&format!("{key}:"))? + key.len() + 1;
    let rest = block[at..].trim_start();
    if rest.starts_with('"') {
        let close = closing_quote(rest)?;
        Some(&rest[..=close])
    } else {
        let end = rest.find([',', '}', '\n']).unwrap_or(rest.len());
        Some(rest[..end].trim())
    }
}

/// Index of the quote that closes the string literal `text` starts with.
fn closing_quote(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

/// The value of a plain string literal (`\"` and `\\` unescaped).
fn literal(text: &str) -> Option<String> {
    let text = text.trim();
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    Some(inner.replace("\\\"", "\"").replace("\\\\", "\\"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_catalog_resolves_constants_and_literals() {
        let source = r#"
pub const SLOW: &str = "slow_endpoint";
pub const CATALOG: Catalog = &[
    ScenarioInfo {
        name: SLOW,
        description: "GET /x takes \"longer\", p99 rises",
    },
    ScenarioInfo { name: "hot_key", description: "one key" },
];
"#;
        let entries = app(source).unwrap();
        assert_eq!(
            entries,
            vec![
                Entry {
                    name: "slow_endpoint".into(),
                    description: "GET /x takes \"longer\", p99 rises".into()
                },
                Entry {
                    name: "hot_key".into(),
                    description: "one key".into()
                },
            ]
        );
    }

    #[test]
    fn a_catalog_in_another_shape_is_an_error_not_an_empty_list() {
        assert!(app("pub const OTHER: u8 = 1;").is_err());
        assert!(app("pub const CATALOG: Catalog = &[];").is_err());
        let unknown =
            app("pub const CATALOG: Catalog = &[ScenarioInfo { name: NOPE, description: \"x\" }];");
        assert!(unknown.unwrap_err().to_string().contains("NOPE"));
    }

    #[test]
    fn the_kit_faults_are_the_documented_settings_structs() {
        let source = "/// `faults.latency`: a delay.\n#[derive(Debug)]\npub struct LatencyFault;\n\
                      /// `faults.errors.rate`: not a fault.\npub rate: f64,\n\
                      /// `faults.errors`: a status.\npub struct ErrorFault;\n\
                      /// `faults.<scenario>`: a placeholder.\npub struct ScenarioFault;\n";
        let names: Vec<_> = kit(source).unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["latency", "errors"]);
        assert!(kit("no docs").is_err());
    }
}
