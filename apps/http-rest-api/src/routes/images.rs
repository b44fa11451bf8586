//! `/api/v1/products/{id}/image`: multipart upload (size limit enforced while
//! streaming, content-type allow-list checked against the bytes) and download
//! with the stored content type.

use bytes::Bytes;
use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::param::Path;
use poem_openapi::registry::{
    MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::types::multipart::Upload;
use poem_openapi::{ApiResponse, Multipart, OpenApi};
use service_kit::input::Id;
use service_kit::problem::{Problem, status};
use tokio::io::AsyncReadExt;

use super::json::Json;
use super::products::ProductView;
use super::security::BearerToken;
use super::{AppState, Tag};
use crate::auth::Role;
use crate::error::{ApiError, Errors};
use crate::store::Image;
use crate::upload_limit::{limit_upload, too_large};

/// The upload form.
#[derive(Debug, Multipart)]
pub struct ImageUpload {
    /// The image file (PNG, JPEG, GIF or WebP by default).
    pub file: Upload,
}

/// The images resource.
#[derive(Debug, Clone)]
pub struct ImagesApi {
    /// Shared state.
    pub state: AppState,
}

/// What an upload can answer besides 200.
type UploadErrors = Errors<
    {
        status::BAD_REQUEST
            | status::UNAUTHORIZED
            | status::FORBIDDEN
            | status::NOT_FOUND
            | status::PAYLOAD_TOO_LARGE
            | status::UNSUPPORTED_MEDIA_TYPE
            | status::TOO_MANY_REQUESTS
            | status::INSUFFICIENT_STORAGE
    },
>;
/// What a download can answer besides the image.
type DownloadErrors =
    Errors<{ status::BAD_REQUEST | status::NOT_FOUND | status::TOO_MANY_REQUESTS }>;

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Images")]
impl ImagesApi {
    /// Upload or replace a product's image (role `editor` or `admin`).
    #[oai(
        path = "/products/:id/image",
        method = "put",
        operation_id = "uploadProductImage",
        transform = "limit_upload"
    )]
    async fn upload(
        &self,
        token: BearerToken,
        /// The product id.
        #[oai(name = "id")]
        id: Path<Id>,
        form: ImageUpload,
    ) -> Result<Json<ProductView>, UploadErrors> {
        token.require(Role::Editor, "uploading an image")?;
        let file = form.file;
        let declared = file
            .content_type()
            .map(|ct| {
                ct.split(';')
                    .next()
                    .unwrap_or(ct)
                    .trim()
                    .to_ascii_lowercase()
            })
            // A part without a type of its own (or the generic one) is typed by its bytes.
            .filter(|ct| !ct.is_empty() && ct != "application/octet-stream");
        let allowed = &self.state.settings.images.allowed_types;
        let not_allowed = |ct: &str| {
            unsupported(format!(
                "the file's content type `{ct}` is not one of: {}",
                allowed.join(", ")
            ))
        };
        if let Some(declared) = &declared
            && !allowed.iter().any(|t| t.eq_ignore_ascii_case(declared))
        {
            return Err(not_allowed(declared).into());
        }
        if file.size() > self.state.upload_limit().max_file_bytes {
            return Err(ApiError(too_large(self.state.upload_limit())).into());
        }
        let mut data = Vec::with_capacity(file.size());
        file.into_async_read()
            .read_to_end(&mut data)
            .await
            .map_err(|err| {
                ApiError(
                    Problem::status(StatusCode::BAD_REQUEST)
                        .with_detail(format!("cannot read the upload: {err}")),
                )
            })?;
        // The bytes decide: a file declared `image/png` that is HTML is not stored
        // (a browser would otherwise be served it as the image's type).
        let Some(sniffed) = sniff(&data) else {
            return Err(unsupported(format!(
                "the file's bytes are not a PNG, JPEG, GIF or WebP image{}",
                declared
                    .as_deref()
                    .map(|d| format!(" (it says `{d}`)"))
                    .unwrap_or_default()
            ))
            .into());
        };
        let content_type = match declared {
            Some(declared) if declared != sniffed => {
                return Err(unsupported(format!(
                    "the file says `{declared}` but its bytes are `{sniffed}`"
                ))
                .into());
            }
            Some(declared) => declared,
            None if allowed.iter().any(|t| t.eq_ignore_ascii_case(sniffed)) => sniffed.to_owned(),
            None => return Err(not_allowed(sniffed).into()),
        };
        let product = self.state.store.put_image(
            id.0.get().unsigned_abs(),
            Image {
                content_type,
                data: Bytes::from(data),
            },
        )?;
        Ok(Json(ProductView(product)))
    }

    /// Download a product's image, with the content type it was uploaded with.
    #[oai(
        path = "/products/:id/image",
        method = "get",
        operation_id = "getProductImage"
    )]
    async fn download(
        &self,
        /// The product id.
        #[oai(name = "id")]
        id: Path<Id>,
    ) -> Result<ImageBody, DownloadErrors> {
        match self.state.store.image(id.0.get().unsigned_abs())? {
            Some(image) => Ok(ImageBody(image)),
            None => Err(ApiError(
                Problem::new(StatusCode::NOT_FOUND, "no-image", "No image")
                    .with_detail(format!("product {} has no image", id.0.get())),
            )
            .into()),
        }
    }
}

fn unsupported(detail: String) -> ApiError {
    ApiError(
        Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-image-type",
            "Unsupported image type",
        )
        .with_detail(detail),
    )
}

/// The image type the first bytes announce, for the formats we know.
fn sniff(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.starts_with(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// An image download: its bytes with its own content type.
#[derive(Debug)]
pub struct ImageBody(pub Image);

impl IntoResponse for ImageBody {
    fn into_response(self) -> Response {
        Response::builder()
            .header(poem::http::header::CONTENT_TYPE, self.0.content_type)
            .header(poem::http::header::CACHE_CONTROL, "public, max-age=60")
            .body(self.0.data)
    }
}

impl ApiResponse for ImageBody {
    fn meta() -> MetaResponses {
        let binary = || {
            MetaSchemaRef::Inline(Box::new(MetaSchema {
                format: Some("binary"),
                ..MetaSchema::new("string")
            }))
        };
        MetaResponses {
            responses: vec![MetaResponse {
                description: "The image",
                status: Some(200),
                status_range: None,
                content: ["image/png", "image/jpeg", "image/gif", "image/webp"]
                    .into_iter()
                    .map(|content_type| MetaMediaType {
                        content_type,
                        schema: binary(),
                    })
                    .collect(),
                headers: vec![],
            }],
        }
    }

    fn register(_registry: &mut Registry) {}
}

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn known_formats_are_recognised_by_their_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff(b"\xff\xd8\xff\xe0"), Some("image/jpeg"));
        assert_eq!(sniff(b"GIF89a.."), Some("image/gif"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"hello"), None);
    }
}
