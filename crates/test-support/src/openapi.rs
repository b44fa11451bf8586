//! The committed `openapi.json` of an HTTP app is the document it serves (OBI's route
//! patterns and the contract tests are generated from it): each app's test compares
//! them, and `UPDATE_OPENAPI=1` rewrites the committed one.

use std::path::Path;

/// Asserts that `<manifest_dir>/openapi.json` is `generated`; with `UPDATE_OPENAPI`
/// set, writes it instead. `package` names the app in the message.
pub fn assert_committed(manifest_dir: &str, package: &str, generated: &str) {
    let path = Path::new(manifest_dir).join("openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, generated)
            .unwrap_or_else(|err| panic!("cannot write {}: {err}", path.display()));
        return;
    }
    // A missing file is its own error: "out of date" would send the reader to
    // regenerate a document that is there (e.g. a test binary built in another
    // checkout and reused from a shared target directory points at that one).
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|err| {
        panic!(
            "cannot read {}: {err}; a new app writes it with `UPDATE_OPENAPI=1 cargo test -p {package} --test api openapi`",
            path.display()
        )
    });
    assert!(
        committed == generated,
        "{} is out of date; run `UPDATE_OPENAPI=1 cargo test -p {package} --test api openapi` and commit it",
        path.display()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "is out of date")]
    fn a_stale_document_fails_naming_the_command_that_fixes_it() {
        let dir = std::env::temp_dir().join(format!("openapi-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("openapi.json"), "{}\n").unwrap();
        assert_committed(dir.to_str().unwrap(), "some-app", "{\"paths\": {}}\n");
    }

    #[test]
    #[should_panic(expected = "cannot read")]
    fn a_missing_document_is_named_as_missing_not_as_stale() {
        let dir = std::env::temp_dir().join(format!("openapi-{}", fastrand::u64(..)));
        assert_committed(dir.to_str().unwrap(), "some-app", "{\"paths\": {}}\n");
    }

    #[test]
    fn a_current_document_passes() {
        let dir = std::env::temp_dir().join(format!("openapi-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("openapi.json"), "{}\n").unwrap();
        assert_committed(dir.to_str().unwrap(), "some-app", "{}\n");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
