//! `/api/v1/customers`: who orders, CRUD.

use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use service_kit::input::{Field, Id};

use super::products::{Deleted, page_end};
use super::{
    AppState, CreateErrors, DeleteErrors, GetErrors, ListErrors, Tag, UpdateErrors, cursor,
};
use crate::domain::customer::{CustomerInput, EmailField};
use crate::domain::product::NameField;
use crate::error::ApiError;
use crate::model::Customer;
use crate::store::customers;

/// Customer operations.
#[derive(Debug)]
pub struct CustomersApi {
    /// Shared state.
    pub state: AppState,
}

/// A customer to create or the new fields of one.
#[derive(Debug, Object)]
pub struct CustomerRequest {
    /// E-mail address (stored lower-case), unique.
    pub email: Field<EmailField>,
    /// 1–200 characters.
    pub name: Field<NameField>,
}

impl CustomerRequest {
    fn parse(self) -> Result<CustomerInput, ApiError> {
        let mut problems = Vec::new();
        let email = self.email.check("email", &mut problems);
        let name = self.name.check("name", &mut problems);
        match (email, name) {
            (Some(email), Some(name)) => Ok(CustomerInput::new(&email, name)),
            _ => Err(ApiError::Invalid(problems)),
        }
    }
}

/// A page of customers.
#[derive(Debug, Object)]
pub struct CustomerPage {
    /// Customers by id.
    pub items: Vec<Customer>,
    /// Pass as `after` for the next page; `null` on the last page.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

/// A created customer.
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
        let input = body.0.parse()?;
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
        /// Page size (default 20; more than `orders.max_page_size` is that many).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `next_cursor` of the previous page.
        #[oai(validator(pattern = "^[1-9][0-9]{0,17}$"))]
        after: Query<Option<String>>,
    ) -> Result<Json<CustomerPage>, ListErrors> {
        let limit = self.state.limit(limit.0);
        let after = cursor(after.0.as_deref())?;
        self.state.prelude(req).await?;
        let mut items = customers::list(&self.state.pool, after, limit + 1).await?;
        let next_cursor = page_end(&mut items, limit, |p| p.id);
        Ok(Json(CustomerPage { items, next_cursor }))
    }

    /// Get a customer.
    #[oai(path = "/customers/:id", method = "get", operation_id = "getCustomer")]
    async fn get(&self, req: &Request, id: Path<Id>) -> Result<Json<Customer>, GetErrors> {
        self.state.prelude(req).await?;
        Ok(Json(customers::get(&self.state.pool, id.0.get()).await?))
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
        id: Path<Id>,
        body: Json<CustomerRequest>,
    ) -> Result<Json<Customer>, UpdateErrors> {
        let input = body.0.parse()?;
        self.state.prelude(req).await?;
        Ok(Json(
            customers::update(&self.state.pool, id.0.get(), &input).await?,
        ))
    }

    /// Delete a customer without orders.
    #[oai(
        path = "/customers/:id",
        method = "delete",
        operation_id = "deleteCustomer"
    )]
    async fn delete(&self, req: &Request, id: Path<Id>) -> Result<Deleted, DeleteErrors> {
        self.state.prelude(req).await?;
        customers::delete(&self.state.pool, id.0.get()).await?;
        Ok(Deleted::NoContent)
    }
}
