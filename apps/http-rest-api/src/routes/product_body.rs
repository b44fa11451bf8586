//! The product request body (JSON wire format → [`NewProduct`]): read with a size
//! bound, parsed, and validated field by field so a 422 can name every bad field.

use poem::error::ResponseError;
use poem::http::StatusCode;
use poem::{Request, RequestBody};
use poem_openapi::registry::{MetaMediaType, MetaRequest, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions, Object};
use serde_json::{Map, Value};
use service_kit::problem::{FieldProblem, Problem};

use crate::domain::{Category, Description, NewProduct, PriceCents, ProductName, Sku, Stock};
use crate::error::ApiError;

/// Largest product document accepted.
const MAX_BODY: usize = 64 * 1024;

/// A product as clients send it (for the OpenAPI document; parsing is
/// [`parse_product`], which names each invalid field).
#[derive(Debug, Object)]
#[oai(rename = "ProductInput")]
pub struct ProductInput {
    /// 3 to 32 of `A-Z`, `0-9`, `-`; unique.
    #[oai(validator(min_length = 3, max_length = 32, pattern = "^[A-Z0-9-]+$"))]
    pub sku: String,
    /// 1 to 200 characters, not blank, no control characters.
    #[oai(validator(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x1F\x7F-\x9F\s][^\x00-\x1F\x7F-\x9F]*$"
    ))]
    pub name: String,
    /// At most 2000 characters.
    #[oai(nullable, validator(max_length = 2000))]
    pub description: Option<String>,
    /// 1 to 50 of `a-z`, `0-9`, `-`.
    #[oai(validator(min_length = 1, max_length = 50, pattern = "^[a-z0-9-]+$"))]
    pub category: String,
    /// Price in cents.
    #[oai(validator(minimum(value = "0"), maximum(value = "100000000")))]
    pub price_cents: i64,
    /// Units in stock.
    #[oai(validator(minimum(value = "0"), maximum(value = "1000000")))]
    pub stock: i64,
}

/// A validated product body.
#[derive(Debug)]
pub struct ProductBody(pub NewProduct);

impl<'a> ApiExtractor<'a> for ProductBody {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        ProductInput::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: "application/json",
                schema: ProductInput::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        let is_json = request
            .content_type()
            .and_then(|ct| ct.parse::<mime::Mime>().ok())
            .is_some_and(|ct| {
                ct.type_() == "application"
                    && (ct.subtype() == "json" || ct.suffix().is_some_and(|s| s == "json"))
            });
        if !is_json {
            return Err(ApiError(
                Problem::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported-media-type",
                    "Unsupported media type",
                )
                .with_detail("send the product as `Content-Type: application/json`"),
            )
            .into());
        }
        let bytes = body
            .take()?
            .into_bytes_limit(MAX_BODY)
            .await
            .map_err(|err| {
                let status = err.status();
                ApiError(Problem::status(status).with_detail(
                    if status == StatusCode::PAYLOAD_TOO_LARGE {
                        format!("a product document may be at most {MAX_BODY} bytes")
                    } else {
                        format!("cannot read the body: {err}")
                    },
                ))
            })?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|err| {
            ApiError(
                Problem::new(StatusCode::BAD_REQUEST, "malformed-json", "Malformed JSON")
                    .with_detail(format!("the body is not valid JSON: {err}")),
            )
        })?;
        parse_product(&value)
            .map(Self)
            .map_err(|errors| ApiError::validation(errors).into())
    }
}

/// Validates a product document, collecting an error for every bad field.
pub fn parse_product(value: &Value) -> Result<NewProduct, Vec<FieldProblem>> {
    let Some(object) = value.as_object() else {
        return Err(vec![FieldProblem::new("body", "must be a JSON object")]);
    };
    // Other members are ignored, as every app of the shop does and as the document
    // says (no `additionalProperties: false`): a client may send back a product it
    // read (`id`, `version`, ...) or fields a newer API version knows.
    let mut errors: Vec<FieldProblem> = Vec::new();
    let sku = text(object, "sku", true, &mut errors)
        .and_then(|v| check("sku", Sku::parse(v), &mut errors));
    let name = text(object, "name", true, &mut errors)
        .and_then(|v| check("name", ProductName::parse(v), &mut errors));
    let description = match text(object, "description", false, &mut errors) {
        Some(v) => check("description", Description::parse(v), &mut errors),
        None => Some(Description::default()),
    };
    let category = text(object, "category", true, &mut errors)
        .and_then(|v| check("category", Category::parse(v), &mut errors));
    let price_cents = integer(object, "price_cents", &mut errors)
        .and_then(|v| check("price_cents", PriceCents::parse(v), &mut errors));
    let stock = integer(object, "stock", &mut errors)
        .and_then(|v| check("stock", Stock::parse(v), &mut errors));
    match (sku, name, description, category, price_cents, stock) {
        (
            Some(sku),
            Some(name),
            Some(description),
            Some(category),
            Some(price_cents),
            Some(stock),
        ) if errors.is_empty() => Ok(NewProduct {
            sku,
            name,
            description,
            category,
            price_cents,
            stock,
        }),
        _ => Err(errors),
    }
}

fn text<'v>(
    object: &'v Map<String, Value>,
    field: &str,
    required: bool,
    errors: &mut Vec<FieldProblem>,
) -> Option<&'v str> {
    match object.get(field) {
        Some(Value::String(s)) => Some(s),
        None | Some(Value::Null) if !required => None,
        None | Some(Value::Null) => {
            errors.push(FieldProblem::new(field, "is required"));
            None
        }
        Some(_) => {
            errors.push(FieldProblem::new(field, "must be a string"));
            None
        }
    }
}

fn integer(
    object: &Map<String, Value>,
    field: &str,
    errors: &mut Vec<FieldProblem>,
) -> Option<i64> {
    match object.get(field) {
        Some(Value::Number(n)) => match n.as_i64() {
            Some(v) => Some(v),
            None => {
                errors.push(FieldProblem::new(field, "must be a whole number in range"));
                None
            }
        },
        None | Some(Value::Null) => {
            errors.push(FieldProblem::new(field, "is required"));
            None
        }
        Some(_) => {
            errors.push(FieldProblem::new(field, "must be an integer"));
            None
        }
    }
}

fn check<T>(field: &str, parsed: Result<T, String>, errors: &mut Vec<FieldProblem>) -> Option<T> {
    parsed
        .map_err(|message| errors.push(FieldProblem::new(field, message)))
        .ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(errors: Vec<FieldProblem>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_complete_document_parses() {
        let product = parse_product(&json!({
            "sku": "MUG-1", "name": "Mug", "category": "kitchen",
            "price_cents": 1299, "stock": 3, "id": 7
        }))
        .unwrap();
        assert_eq!(product.sku.as_str(), "MUG-1");
        assert_eq!(product.description.as_str(), "");
    }

    #[test]
    fn every_bad_field_is_named() {
        let errors = parse_product(&json!({
            "sku": "x", "name": 5, "category": "Kitchen",
            "price_cents": -1, "colour": "red"
        }))
        .unwrap_err();
        let mut named = fields(errors);
        named.sort();
        // `colour` is not in the document: ignored, as every app ignores members
        // its document does not name (docs/contracts.md).
        assert_eq!(named, ["category", "name", "price_cents", "sku", "stock"]);
    }

    #[test]
    fn non_objects_and_fractions_are_refused() {
        assert_eq!(fields(parse_product(&json!([1])).unwrap_err()), ["body"]);
        let errors = parse_product(&json!({
            "sku": "ABC", "name": "n", "category": "c", "price_cents": 1.5, "stock": 1
        }))
        .unwrap_err();
        assert_eq!(fields(errors), ["price_cents"]);
    }
}
