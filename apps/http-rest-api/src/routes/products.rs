//! `/api/v1/products`: list (cursor pages, filters), get (`ETag`, `If-None-Match`),
//! create, replace (`If-Match` → 412 on a stale version) and delete.

use std::sync::Arc;

use poem_openapi::param::{Header, Path, Query};
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};
use service_kit::input::Id;
use service_kit::problem::status;

use super::json::{Json, Serialized};
use super::product_body::ProductBody;
use super::security::BearerToken;
use super::{AppState, Tag};
use crate::auth::Role;
use crate::cursor;
use crate::domain::{Filter, Product};
use crate::error::{ApiError, Errors};

// The answers write a `ProductView`, which writes the same JSON (tested below).
/// A product as the API shows it.
#[derive(Debug, Object)]
#[oai(rename = "Product")]
pub struct ProductDto {
    /// Assigned by the server.
    pub id: u64,
    /// Stock keeping unit, unique.
    pub sku: String,
    /// Display name.
    pub name: String,
    /// Long text; may be empty.
    pub description: String,
    /// Category slug.
    pub category: String,
    /// Price in cents.
    pub price_cents: i64,
    /// Units in stock.
    pub stock: i64,
    /// Incremented on every change; the `ETag` is `"<id>-<version>"`.
    pub version: u64,
    /// Content type of the product image; `null` until one is uploaded.
    #[oai(nullable)]
    pub image_type: Option<String>,
}

impl From<&Product> for ProductDto {
    fn from(product: &Product) -> Self {
        let fields = &product.fields;
        Self {
            id: product.id,
            sku: fields.sku.as_str().to_owned(),
            name: fields.name.as_str().to_owned(),
            description: fields.description.as_str().to_owned(),
            category: fields.category.as_str().to_owned(),
            price_cents: fields.price_cents.get(),
            stock: fields.stock.get(),
            version: product.version,
            image_type: product.image_type.clone(),
        }
    }
}

/// A product as the read path writes it: shared with the store (no copy of its
/// strings), written as the documented `Product`.
#[derive(Debug, Clone)]
pub struct ProductView(pub Arc<Product>);

impl Serialize for ProductView {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let product = &*self.0;
        let fields = &product.fields;
        // The keys in the order poem-openapi writes `Product` (a JSON object's keys,
        // sorted), so the bytes on the wire are what they were.
        let mut out = serializer.serialize_struct("Product", 9)?;
        out.serialize_field("category", fields.category.as_str())?;
        out.serialize_field("description", fields.description.as_str())?;
        out.serialize_field("id", &product.id)?;
        out.serialize_field("image_type", &product.image_type)?;
        out.serialize_field("name", fields.name.as_str())?;
        out.serialize_field("price_cents", &fields.price_cents.get())?;
        out.serialize_field("sku", fields.sku.as_str())?;
        out.serialize_field("stock", &fields.stock.get())?;
        out.serialize_field("version", &product.version)?;
        out.end()
    }
}

impl Serialized for ProductView {
    type Schema = ProductDto;
}

/// One page as the list writes it, documented as `ProductPage`.
#[derive(Debug, Clone, Serialize)]
pub struct PageView {
    /// The products, by ascending id.
    pub items: Vec<ProductView>,
    /// The cursor of the next page.
    pub next_cursor: Option<String>,
}

impl Serialized for PageView {
    type Schema = ProductPage;
}

// The list writes a `PageView`, which writes the same JSON (tested below).
/// One page of products.
#[derive(Debug, Object)]
#[oai(rename = "ProductPage")]
pub struct ProductPage {
    /// The products, by ascending id.
    pub items: Vec<ProductDto>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

/// A product with its `ETag`.
#[derive(Debug, ApiResponse)]
pub enum ProductResponse {
    /// The product.
    #[oai(status = 200)]
    Ok(
        Json<ProductView>,
        /// The product's version.
        #[oai(header = "ETag")]
        String,
    ),
    /// Unchanged since the version named by `If-None-Match`.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

/// A created product.
#[derive(Debug, ApiResponse)]
pub enum CreatedResponse {
    /// Created.
    #[oai(status = 201)]
    Created(
        Json<ProductView>,
        /// Where the product lives.
        #[oai(header = "Location")]
        String,
        /// The product's version.
        #[oai(header = "ETag")]
        String,
    ),
}

/// A replaced product.
#[derive(Debug, ApiResponse)]
pub enum UpdatedResponse {
    /// The product as stored now.
    #[oai(status = 200)]
    Ok(
        Json<ProductView>,
        /// The product's new version.
        #[oai(header = "ETag")]
        String,
    ),
}

/// A deleted product.
#[derive(Debug, ApiResponse)]
pub enum DeletedResponse {
    /// Deleted.
    #[oai(status = 204)]
    Deleted,
}

/// The products resource.
#[derive(Debug, Clone)]
pub struct ProductsApi {
    /// Shared state.
    pub state: AppState,
}

/// Builds the response of a read or write that returns one product.
pub fn with_etag(product: Arc<Product>) -> ProductResponse {
    let etag = product.etag();
    ProductResponse::Ok(Json(ProductView(product)), etag)
}

/// What listing can answer besides a page.
type ListErrors = Errors<{ status::BAD_REQUEST | status::TOO_MANY_REQUESTS }>;
/// What creating can answer besides 201.
type CreateErrors = Errors<
    {
        status::BAD_REQUEST
            | status::UNAUTHORIZED
            | status::FORBIDDEN
            | status::CONFLICT
            | status::PAYLOAD_TOO_LARGE
            | status::UNSUPPORTED_MEDIA_TYPE
            | status::UNPROCESSABLE
            | status::TOO_MANY_REQUESTS
            | status::INSUFFICIENT_STORAGE
    },
>;
/// What reading one product can answer besides 200 and 304.
type GetErrors = Errors<{ status::BAD_REQUEST | status::NOT_FOUND | status::TOO_MANY_REQUESTS }>;
/// What replacing can answer besides 200.
type UpdateErrors = Errors<
    {
        status::BAD_REQUEST
            | status::UNAUTHORIZED
            | status::FORBIDDEN
            | status::NOT_FOUND
            | status::CONFLICT
            | status::PRECONDITION_FAILED
            | status::PAYLOAD_TOO_LARGE
            | status::UNSUPPORTED_MEDIA_TYPE
            | status::UNPROCESSABLE
            | status::TOO_MANY_REQUESTS
    },
>;
/// What deleting can answer besides 204.
type DeleteErrors = Errors<
    {
        status::BAD_REQUEST
            | status::UNAUTHORIZED
            | status::FORBIDDEN
            | status::NOT_FOUND
            | status::PRECONDITION_FAILED
            | status::TOO_MANY_REQUESTS
    },
>;

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Products")]
impl ProductsApi {
    /// List products, a page at a time.
    ///
    /// Filters combine with AND. Follow `next_cursor` for the next page.
    // One argument per documented query parameter: poem-openapi derives the
    // OpenAPI parameters from this signature.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/products", method = "get", operation_id = "listProducts")]
    async fn list(
        &self,
        /// Page size (default `store.default_page_size`; more than
        /// `store.max_page_size` is that many).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Only this category.
        category: Query<Option<String>>,
        /// Lowest price in cents, inclusive.
        min_price: Query<Option<i64>>,
        /// Highest price in cents, inclusive.
        max_price: Query<Option<i64>>,
        /// Case-insensitive part of the name.
        q: Query<Option<String>>,
        /// Only products in stock (true) or out of stock (false).
        in_stock: Query<Option<bool>>,
        /// Only these SKUs (repeat for several: `sku=A&sku=B`), e.g. the lines of a cart.
        sku: Query<Vec<String>>,
    ) -> Result<Json<PageView>, ListErrors> {
        // 1 to MAX_PAGE_SIZE, as the document says (poem checks it); a lower
        // `store.max_page_size` shortens the page rather than refusing what the
        // document admits.
        let store = &self.state.settings.store;
        let limit = limit
            .0
            .unwrap_or(store.default_page_size)
            .min(store.max_page_size);
        let after = match cursor.0.as_deref() {
            Some(text) => {
                Some(cursor::decode(text).map_err(|m| ApiError::bad_parameter("cursor", m))?)
            }
            None => None,
        };
        if let (Some(min), Some(max)) = (min_price.0, max_price.0)
            && min > max
        {
            return Err(ApiError::bad_parameter(
                "min_price",
                format!("{min} is above max_price {max}"),
            )
            .into());
        }
        let filter = Filter {
            category: category.0,
            min_price: min_price.0,
            max_price: max_price.0,
            query: q.0,
            in_stock: in_stock.0,
            skus: sku.0,
        };
        let page = self.state.store.list(&filter, after, limit as usize);
        Ok(Json(PageView {
            items: page.items.into_iter().map(ProductView).collect(),
            next_cursor: page.next_after.map(cursor::encode),
        }))
    }

    /// Create a product (role `editor` or `admin`).
    #[oai(path = "/products", method = "post", operation_id = "createProduct")]
    async fn create(
        &self,
        token: BearerToken,
        body: ProductBody,
    ) -> Result<CreatedResponse, CreateErrors> {
        token.require(Role::Editor, "creating a product")?;
        let product = self.state.store.create(body.0)?;
        let etag = product.etag();
        let location = format!("/api/v1/products/{}", product.id);
        Ok(CreatedResponse::Created(
            Json(ProductView(product)),
            location,
            etag,
        ))
    }

    /// Get one product.
    #[oai(path = "/products/:id", method = "get", operation_id = "getProduct")]
    async fn get(
        &self,
        /// The product id.
        #[oai(name = "id")]
        id: Path<Id>,
        /// Answer 304 if the product is still at this version.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> Result<ProductResponse, GetErrors> {
        let product = self.state.store.get(id.0.get().unsigned_abs())?;
        let etag = product.etag();
        // `*` matches any current representation (RFC 9110 13.1.2).
        if if_none_match.0.as_deref().is_some_and(|tags| {
            tags.split(',')
                .any(|t| t.trim() == "*" || t.trim().trim_start_matches("W/") == etag)
        }) {
            return Ok(ProductResponse::NotModified(etag));
        }
        Ok(with_etag(product))
    }

    /// Replace a product (role `editor` or `admin`).
    ///
    /// With `If-Match`, the update happens only if the product is still at that
    /// version (else 412 with the current `ETag`).
    #[oai(path = "/products/:id", method = "put", operation_id = "updateProduct")]
    async fn update(
        &self,
        token: BearerToken,
        /// The product id.
        #[oai(name = "id")]
        id: Path<Id>,
        /// The `ETag` the update is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: ProductBody,
    ) -> Result<UpdatedResponse, UpdateErrors> {
        token.require(Role::Editor, "updating a product")?;
        let product =
            self.state
                .store
                .update(id.0.get().unsigned_abs(), body.0, if_match.0.as_deref())?;
        let etag = product.etag();
        Ok(UpdatedResponse::Ok(Json(ProductView(product)), etag))
    }

    /// Delete a product and its image (role `admin`).
    #[oai(
        path = "/products/:id",
        method = "delete",
        operation_id = "deleteProduct"
    )]
    async fn delete(
        &self,
        token: BearerToken,
        /// The product id.
        #[oai(name = "id")]
        id: Path<Id>,
        /// The `ETag` the deletion is based on.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> Result<DeletedResponse, DeleteErrors> {
        token.require(Role::Admin, "deleting a product")?;
        self.state
            .store
            .delete(id.0.get().unsigned_abs(), if_match.0.as_deref())?;
        Ok(DeletedResponse::Deleted)
    }
}

#[cfg(test)]
mod tests {
    use poem_openapi::types::ToJSON;

    use super::*;
    use crate::domain::{Category, Description, NewProduct, PriceCents, ProductName, Sku, Stock};

    fn product(id: u64, image_type: Option<&str>) -> Arc<Product> {
        Arc::new(Product {
            id,
            version: 3,
            fields: NewProduct {
                sku: Sku::parse("MUG-1").unwrap(),
                name: ProductName::parse("Mug \"deluxe\" ☕").unwrap(),
                description: Description::parse("line\nbreak").unwrap(),
                category: Category::parse("kitchen").unwrap(),
                price_cents: PriceCents::parse(1250).unwrap(),
                stock: Stock::parse(7).unwrap(),
            },
            image_type: image_type.map(str::to_owned),
        })
    }

    /// What poem-openapi's own `Json` would write for a documented value.
    fn documented(value: &impl ToJSON) -> String {
        serde_json::to_string(&value.to_json()).unwrap()
    }

    #[test]
    fn a_product_view_writes_the_bytes_the_documented_product_would() {
        for image_type in [None, Some("image/png")] {
            let product = product(42, image_type);
            assert_eq!(
                serde_json::to_string(&ProductView(Arc::clone(&product))).unwrap(),
                documented(&ProductDto::from(&*product))
            );
        }
    }

    #[test]
    fn a_page_view_writes_the_bytes_the_documented_page_would() {
        let products = [product(1, None), product(2, Some("image/gif"))];
        for next_cursor in [None, Some(cursor::encode(2))] {
            let view = PageView {
                items: products.iter().cloned().map(ProductView).collect(),
                next_cursor: next_cursor.clone(),
            };
            let page = ProductPage {
                items: products.iter().map(|p| ProductDto::from(&**p)).collect(),
                next_cursor,
            };
            assert_eq!(serde_json::to_string(&view).unwrap(), documented(&page));
        }
    }
}
