//! `/api/v1/customers`: who orders, CRUD.

use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::products::{Deleted, page_end};
use super::{
    AppState, CreateErrors, DeleteErrors, GetErrors, ListErrors, Tag, UpdateErrors, cursor,
};
use crate::domain::customer::CustomerInput;
use crate::error::ApiError;
use crate::model::Customer;
use crate::store::customers;

/// Customer operations.
#[derive(Debug)]
pub struct CustomersApi {
    /// Shared state.
    pub state: AppState,
}

/// A product to create or the new fields of one.
#[derive(Debug, Clone, Object)]
pub struct CustomerRequest {
    /// E-mail address (stored lower-case), unique.
    pub email: String,
    /// 1–200 characters.
    pub name: String,
}

impl CustomerRequest {
    fn parse(&self) -> Result<CustomerInput, ApiError> {
        CustomerInput::parse(&self.email, &self.name).map_err(ApiError::Invalid)
    }
}

/// A page of customers.
#[derive(Debug, Object)]
pub struct CustomerPage {
    /// Customers by id.
    pub items: Vec<Customer>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A created product.
#[derive(Debug, ApiResponse)]
pub enum CustomerCreated {
    /// Created.
    #[oai(status = 201)]
    Created(Json<Customer>, #[oai(header = "Location")] String),
}

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Customers")]
impl CustomersApi {
    /// Create a customer.
    #[oai(path = "/customers", method = "post", operation_id = "createCustomer")]
    async fn create(
        &self,
        req: &Request,
        body: Json<CustomerRequest>,
    ) -> Result<CustomerCreated, CreateErrors> {
        let input = body.parse()?;
        self.state.prelude(req).await?;
        let customer = customers::create(&self.state.pool, &input).await?;
        let location = format!("/api/v1/customers/{}", customer.id);
        Ok(CustomerCreated::Created(Json(customer), location))
    }

    /// List customers by id, a page at a time.
    #[oai(path = "/customers", method = "get", operation_id = "listCustomers")]
    async fn list(
        &self,
        req: &Request,
        /// Page size, 1 to `orders.max_page_size` (default 20).
        limit: Query<Option<u32>>,
        /// `next_cursor` of the previous page.
        after: Query<Option<String>>,
    ) -> Result<Json<CustomerPage>, ListErrors> {
        let limit = self.state.limit(limit.0)?;
        let after = cursor(after.0.as_deref())?;
        self.state.prelude(req).await?;
        let mut items = customers::list(&self.state.pool, after, limit + 1).await?;
        let next_cursor = page_end(&mut items, limit, |p| p.id);
        Ok(Json(CustomerPage { items, next_cursor }))
    }

    /// Get a customer.
    #[oai(path = "/customers/:id", method = "get", operation_id = "getCustomer")]
    async fn get(&self, req: &Request, id: Path<i64>) -> Result<Json<Customer>, GetErrors> {
        self.state.prelude(req).await?;
        Ok(Json(customers::get(&self.state.pool, id.0).await?))
    }

    /// Replace a customer's fields.
    #[oai(
        path = "/customers/:id",
        method = "put",
        operation_id = "updateCustomer"
    )]
    async fn update(
        &self,
        req: &Request,
        id: Path<i64>,
        body: Json<CustomerRequest>,
    ) -> Result<Json<Customer>, UpdateErrors> {
        let input = body.parse()?;
        self.state.prelude(req).await?;
        Ok(Json(
            customers::update(&self.state.pool, id.0, &input).await?,
        ))
    }

    /// Delete a customer without orders.
    #[oai(
        path = "/customers/:id",
        method = "delete",
        operation_id = "deleteCustomer"
    )]
    async fn delete(&self, req: &Request, id: Path<i64>) -> Result<Deleted, DeleteErrors> {
        self.state.prelude(req).await?;
        customers::delete(&self.state.pool, id.0).await?;
        Ok(Deleted::NoContent)
    }
}
