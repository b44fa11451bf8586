//! `/api/v1/products`: the catalog's CRUD.

use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use service_kit::input::{Field, Id};

use super::{
    AppState, CreateErrors, DeleteErrors, GetErrors, ListErrors, Tag, UpdateErrors, cursor,
};
use crate::domain::cursor_after;
use crate::domain::product::{NameField, PriceField, ProductInput, SkuField, StockField};
use crate::error::ApiError;
use crate::model::Product;
use crate::store::products;

/// Product operations.
#[derive(Debug)]
pub struct ProductsApi {
    /// Shared state.
    pub state: AppState,
}

/// A product to create or the new fields of one.
#[derive(Debug, Object)]
pub struct ProductRequest {
    /// 1–64 of letters, digits, `-`, `_` (stored upper-case), unique.
    pub sku: Field<SkuField>,
    /// 1–200 characters.
    pub name: Field<NameField>,
    /// Unit price in cents.
    pub price_cents: Field<PriceField>,
    /// Units in stock.
    pub stock: Field<StockField>,
}

impl ProductRequest {
    fn parse(self) -> Result<ProductInput, ApiError> {
        let mut problems = Vec::new();
        let sku = self.sku.check("sku", &mut problems);
        let name = self.name.check("name", &mut problems);
        let price = self.price_cents.check("price_cents", &mut problems);
        let stock = self.stock.check("stock", &mut problems);
        match (sku, name, price, stock) {
            (Some(sku), Some(name), Some(price), Some(stock)) => {
                Ok(ProductInput::new(&sku, name, price, stock))
            }
            _ => Err(ApiError::Invalid(problems)),
        }
    }
}

/// A page of products.
#[derive(Debug, Object)]
pub struct ProductPage {
    /// Products by id.
    pub items: Vec<Product>,
    /// Pass as `after` for the next page; `null` on the last page.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

/// A created product.
#[derive(Debug, ApiResponse)]
pub enum ProductCreated {
    /// Created.
    #[oai(status = 201)]
    Created(Json<Product>, #[oai(header = "Location")] String),
}

/// Nothing to say.
#[derive(Debug, ApiResponse)]
pub enum Deleted {
    /// Deleted.
    #[oai(status = 204)]
    NoContent,
}

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Products")]
impl ProductsApi {
    /// Create a product.
    #[oai(path = "/products", method = "post", operation_id = "createProduct")]
    async fn create(
        &self,
        req: &Request,
        body: Json<ProductRequest>,
    ) -> Result<ProductCreated, CreateErrors> {
        let input = body.0.parse()?;
        self.state.prelude(req).await?;
        let product = products::create(&self.state.pool, &input).await?;
        let location = format!("/api/v1/products/{}", product.id);
        Ok(ProductCreated::Created(Json(product), location))
    }

    /// List products by id, a page at a time.
    #[oai(path = "/products", method = "get", operation_id = "listProducts")]
    async fn list(
        &self,
        req: &Request,
        /// Page size (default 20; more than `orders.max_page_size` is that many).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `next_cursor` of the previous page.
        #[oai(validator(pattern = "^[1-9][0-9]{0,17}$"))]
        after: Query<Option<String>>,
    ) -> Result<Json<ProductPage>, ListErrors> {
        let limit = self.state.limit(limit.0);
        let after = cursor(after.0.as_deref())?;
        self.state.prelude(req).await?;
        let mut items = products::list(&self.state.pool, after, limit + 1).await?;
        let next_cursor = page_end(&mut items, limit, |p| p.id);
        Ok(Json(ProductPage { items, next_cursor }))
    }

    /// Get a product.
    #[oai(path = "/products/:id", method = "get", operation_id = "getProduct")]
    async fn get(&self, req: &Request, id: Path<Id>) -> Result<Json<Product>, GetErrors> {
        self.state.prelude(req).await?;
        Ok(Json(products::get(&self.state.pool, id.0.get()).await?))
    }

    /// Replace a product's fields.
    #[oai(path = "/products/:id", method = "put", operation_id = "updateProduct")]
    async fn update(
        &self,
        req: &Request,
        id: Path<Id>,
        body: Json<ProductRequest>,
    ) -> Result<Json<Product>, UpdateErrors> {
        let input = body.0.parse()?;
        self.state.prelude(req).await?;
        Ok(Json(
            products::update(&self.state.pool, id.0.get(), &input).await?,
        ))
    }

    /// Delete a product that no order references.
    #[oai(
        path = "/products/:id",
        method = "delete",
        operation_id = "deleteProduct"
    )]
    async fn delete(&self, req: &Request, id: Path<Id>) -> Result<Deleted, DeleteErrors> {
        self.state.prelude(req).await?;
        products::delete(&self.state.pool, id.0.get()).await?;
        Ok(Deleted::NoContent)
    }
}

/// Trims a `limit + 1` fetch to `limit` and returns the cursor for the next page.
pub(crate) fn page_end<T>(
    items: &mut Vec<T>,
    limit: i64,
    id: impl Fn(&T) -> i64,
) -> Option<String> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if items.len() > limit {
        items.truncate(limit);
        items.last().map(|last| cursor_after(id(last)))
    } else {
        None
    }
}
