//! [`Json`], the JSON payload of the read path's answers: documented exactly as
//! poem-openapi's `Json` (same content type, same schema, registered the same way),
//! but written straight to bytes with serde. poem-openapi's own `Json` first turns
//! the value into a `serde_json::Value` tree (a map and a string per field, per
//! product) and then writes the tree; on a list page that tree was most of the
//! answer's allocations.
//!
//! What is written is a [`Serialized`] view (e.g. a product shared with the store)
//! whose schema is the documented type (`Schema`): a test per view checks that it
//! writes what poem-openapi would write for the documented type.

use poem::http::{StatusCode, header};
use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use serde::Serialize;

/// A value written with serde whose document schema is `Schema`'s.
pub trait Serialized: Serialize + Send {
    /// The documented type (a poem-openapi `Object`) this value is written as.
    type Schema: Type;
}

/// A JSON answer of `T`, written with serde, documented as `T::Schema`.
#[derive(Debug, Clone)]
pub struct Json<T>(pub T);

impl<T: Serialized> Payload for Json<T> {
    const CONTENT_TYPE: &'static str = poem_openapi::payload::Json::<T::Schema>::CONTENT_TYPE;

    fn check_content_type(content_type: &str) -> bool {
        poem_openapi::payload::Json::<T::Schema>::check_content_type(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::Schema::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::Schema::register(registry);
    }
}

impl<T: Serialized> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => Response::builder()
                .header(header::CONTENT_TYPE, Self::CONTENT_TYPE)
                .body(body),
            // As poem's `Json`: a value that cannot be written is the server's fault.
            Err(err) => Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .body(err.to_string()),
        }
    }
}

impl<T: Serialized> ApiResponse for Json<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: Self::CONTENT_TYPE,
                    schema: Self::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::Schema::register(registry);
    }
}
