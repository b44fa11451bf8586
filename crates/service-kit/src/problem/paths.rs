//! The API's paths as the problem middleware reads them from the OpenAPI document:
//! each template's segments, methods (for `Allow`) and what each parameter admits, in
//! words (for a 400 that names it).

use serde_json::Value;

/// One path template of the API, split into segments, with its methods and what each
/// of its parameters admits.
#[derive(Debug, Clone, Default)]
pub(super) struct Template {
    pub(super) segments: Vec<String>,
    pub(super) methods: Vec<String>,
    pub(super) parameters: Vec<(String, String)>,
}

/// Keys of an OpenAPI path item that are not operations.
const NOT_METHODS: &[&str] = &["parameters", "summary", "description", "servers", "$ref"];

impl Template {
    pub(super) fn parse(path: &str) -> Self {
        Self {
            segments: path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            ..Self::default()
        }
    }

    pub(super) fn from_document(path: &str, item: &Value) -> Self {
        let mut template = Self::parse(path);
        for (method, operation) in item.as_object().into_iter().flatten() {
            if NOT_METHODS.contains(&method.as_str()) {
                continue;
            }
            template.methods.push(method.clone());
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let Some(name) = parameter["name"].as_str() else {
                    continue;
                };
                if !template.parameters.iter().any(|(known, _)| known == name) {
                    template
                        .parameters
                        .push((name.to_owned(), admits(&parameter["schema"])));
                }
            }
        }
        template
    }

    pub(super) fn matches(&self, path: &str) -> bool {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        segments.len() == self.segments.len()
            && self
                .segments
                .iter()
                .zip(segments)
                .all(|(template, segment)| variable(template).is_some() || template == segment)
    }

    pub(super) fn variables(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|segment| variable(segment))
    }
}

/// What a value of `schema` must be, in words: `must be a whole number from 1 to 100`.
fn admits(schema: &Value) -> String {
    let number = |key: &str| {
        schema[key].as_f64().map(|n| {
            if n.fract() == 0.0 {
                format!("{n:.0}")
            } else {
                n.to_string()
            }
        })
    };
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<String> = values
            .iter()
            .map(|v| format!("`{}`", v.as_str().unwrap_or_default()))
            .collect();
        return format!("must be one of {}", values.join(", "));
    }
    match schema["type"].as_str() {
        Some(kind @ ("integer" | "number")) => {
            let noun = if kind == "integer" {
                "a whole number"
            } else {
                "a number"
            };
            match (number("minimum"), number("maximum")) {
                (Some(min), Some(max)) => format!("must be {noun} from {min} to {max}"),
                (Some(min), None) => format!("must be {noun} of at least {min}"),
                (None, Some(max)) => format!("must be {noun} of at most {max}"),
                (None, None) => format!("must be {noun}"),
            }
        }
        Some("boolean") => "must be `true` or `false`".to_owned(),
        Some("string") => {
            let mut words = vec!["must be a string".to_owned()];
            match (schema["minLength"].as_u64(), schema["maxLength"].as_u64()) {
                (Some(min), Some(max)) => words.push(format!("of {min} to {max} characters")),
                (Some(min), None) => words.push(format!("of at least {min} characters")),
                (None, Some(max)) => words.push(format!("of at most {max} characters")),
                (None, None) => {}
            }
            if let Some(pattern) = schema["pattern"].as_str() {
                words.push(format!("matching `{pattern}`"));
            }
            words.join(" ")
        }
        _ => "has a value this API does not accept".to_owned(),
    }
}

/// `id` for a template segment `{id}`.
fn variable(segment: &str) -> Option<&str> {
    segment.strip_prefix('{')?.strip_suffix('}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_are_described_in_words() {
        use serde_json::json;
        let cases = [
            (
                json!({"type": "integer", "minimum": 1}),
                "must be a whole number of at least 1",
            ),
            (json!({"type": "boolean"}), "must be `true` or `false`"),
            (
                json!({"type": "string", "enum": ["a", "b"]}),
                "must be one of `a`, `b`",
            ),
            (
                json!({"type": "string", "maxLength": 8, "pattern": "^[a-z]+$"}),
                "must be a string of at most 8 characters matching `^[a-z]+$`",
            ),
        ];
        for (schema, words) in cases {
            assert_eq!(admits(&schema), words);
        }
    }

    #[test]
    fn templates_match_segment_by_segment() {
        let template = Template::parse("/api/v1/orders/{id}/items/{item}");
        assert!(template.matches("/api/v1/orders/7/items/x"));
        assert!(!template.matches("/api/v1/orders/7"));
        assert!(!template.matches("/api/v2/orders/7/items/x"));
        assert_eq!(template.variables().collect::<Vec<_>>(), ["id", "item"]);
    }
}
