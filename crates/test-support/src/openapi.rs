//! The committed `openapi.json` of an HTTP app is the document it serves (OBI's route
//! patterns and the contract tests are generated from it): each app's test compares
//! them, and `UPDATE_OPENAPI=1` rewrites the committed one. The document must also
//! say what the app sends: a property that may be left out (an `Option`) is `null`
//! when poem-openapi serializes `None`, so it must be documented as nullable.

use std::path::Path;

/// Asserts that `<manifest_dir>/openapi.json` is `generated`; with `UPDATE_OPENAPI`
/// set, writes it instead. `package` names the app in the message.
pub fn assert_committed(manifest_dir: &str, package: &str, generated: &str) {
    let undocumented = bodies_without_413_or_415(generated);
    assert!(
        undocumented.is_empty(),
        "{package}'s document leaves out answers every operation with a body can give \
         (413 from the kit's body limit, 415 for another content type): {}",
        undocumented.join(", ")
    );
    let not_nullable = optional_but_not_nullable(generated);
    assert!(
        not_nullable.is_empty(),
        "{package}'s document has optional properties that are not nullable, though the \
         app sends them as null: {}; mark each `#[oai(nullable)]`",
        not_nullable.join(", ")
    );
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

/// `METHOD path (status)` for each operation that takes a body but does not document
/// 413 or 415.
pub fn bodies_without_413_or_415(document: &str) -> Vec<String> {
    let document: serde_json::Value = serde_json::from_str(document).unwrap_or_default();
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            if operation.get("requestBody").is_none() {
                continue;
            }
            for status in ["413", "415"] {
                if operation["responses"].get(status).is_none() {
                    found.push(format!("{} {path} ({status})", method.to_uppercase()));
                }
            }
        }
    }
    found
}

/// `Schema.property` for each property of a component schema that is not required and
/// not nullable.
pub fn optional_but_not_nullable(document: &str) -> Vec<String> {
    let document: serde_json::Value = serde_json::from_str(document).unwrap_or_default();
    let mut found = Vec::new();
    let schemas = document["components"]["schemas"].as_object();
    for (name, schema) in schemas.into_iter().flatten() {
        let required: Vec<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str())
            .collect();
        for (property, spec) in schema["properties"].as_object().into_iter().flatten() {
            if !required.contains(&property.as_str()) && spec["nullable"] != true {
                found.push(format!("{name}.{property}"));
            }
        }
    }
    found
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

    #[test]
    fn an_optional_property_must_be_nullable() {
        let document = r#"{"components": {"schemas": {"Page": {
            "required": ["items"],
            "properties": {"items": {"type": "array"}, "next": {"type": "string"}}}}}}"#;
        assert_eq!(optional_but_not_nullable(document), ["Page.next"]);
        let fixed = document.replace(
            r#""type": "string""#,
            r#""type": "string", "nullable": true"#,
        );
        assert!(optional_but_not_nullable(&fixed).is_empty());
    }

    #[test]
    fn an_operation_with_a_body_must_document_413_and_415() {
        let document = r#"{"paths": {"/a": {
            "get": {"responses": {"200": {}}},
            "post": {"requestBody": {}, "responses": {"415": {}}}}}}"#;
        assert_eq!(bodies_without_413_or_415(document), ["POST /a (413)"]);
    }
}
