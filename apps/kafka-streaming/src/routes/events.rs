//! `/api/v1/events`: publish one event or a batch, answered once the broker
//! acknowledged (`poison_rate` writes an undecodable record, `producer_burst` writes
//! copies).

use futures_util::future::join_all;
use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use service_kit::faults::middleware::is_active;
use service_kit::input::{Field, ListOf};
use service_kit::problem::FieldProblem;
use service_kit::problem::status::{
    BAD_REQUEST, NOT_FOUND, PAYLOAD_TOO_LARGE, UNAVAILABLE, UNPROCESSABLE, UNSUPPORTED_MEDIA_TYPE,
};

use super::{AppState, Tag};
use crate::error::{ApiError, Errors};
use crate::event::{Event, EventRequest, MAX_BATCH};
use crate::scenarios::{POISON_RATE, PRODUCER_BURST};
use crate::store::StoreError;

/// What publishing can answer besides 202.
type PublishErrors = Errors<
    {
        BAD_REQUEST
            | NOT_FOUND
            | PAYLOAD_TOO_LARGE
            | UNSUPPORTED_MEDIA_TYPE
            | UNPROCESSABLE
            | UNAVAILABLE
    },
>;

/// Where the broker wrote an event.
#[derive(Debug, Clone, Object)]
pub struct Accepted {
    /// The event id (generated when the request had none).
    pub id: String,
    /// The input topic.
    pub topic: String,
    /// Partition the broker wrote it to.
    pub partition: i32,
    /// Its offset there.
    pub offset: i64,
}

/// A batch of events.
#[derive(Debug, Object)]
pub struct BatchRequest {
    /// 1 to `events.max_batch` events.
    pub events: Field<ListOf<EventRequest, 1, MAX_BATCH>>,
}

/// Every event of a batch, acknowledged.
#[derive(Debug, Clone, Object)]
pub struct BatchAccepted {
    /// In request order.
    pub accepted: Vec<Accepted>,
}

/// One event published.
#[derive(Debug, ApiResponse)]
pub enum PublishOne {
    /// The broker acknowledged it (acks=all).
    #[oai(status = 202)]
    Accepted(Json<Accepted>),
}

/// A batch published.
#[derive(Debug, ApiResponse)]
pub enum PublishBatch {
    /// The broker acknowledged every event.
    #[oai(status = 202)]
    Accepted(Json<BatchAccepted>),
}

/// The events API.
#[derive(Debug)]
pub struct EventsApi {
    /// Shared state.
    pub state: AppState,
}

impl AppState {
    fn require_api(&self) -> Result<(), ApiError> {
        if self.settings.roles.api {
            Ok(())
        } else {
            Err(ApiError::Disabled(
                "this process does not serve the events API (roles.api is false)".into(),
            ))
        }
    }

    /// Writes `event` (as the request's scenarios say) and waits for the broker.
    async fn publish(&self, req: &Request, event: &Event) -> Result<Accepted, StoreError> {
        let topic = &self.settings.kafka.input_topic;
        let copies = if is_active(req, PRODUCER_BURST) {
            self.settings.scenarios.burst_copies
        } else {
            1
        };
        let delivery = self
            .producer
            .publish_event(topic, event, is_active(req, POISON_RATE), copies)
            .await?;
        Ok(Accepted {
            id: event.id.clone(),
            topic: topic.clone(),
            partition: delivery.partition,
            offset: delivery.offset,
        })
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Events")]
impl EventsApi {
    /// Publish one event; answers once the broker acknowledged it.
    #[oai(path = "/events", method = "post", operation_id = "publishEvent")]
    async fn publish(
        &self,
        req: &Request,
        body: Json<EventRequest>,
    ) -> Result<PublishOne, PublishErrors> {
        self.state.require_api()?;
        let mut problems = Vec::new();
        let max_payload = self.state.settings.events.max_payload_bytes;
        let Some(event) = body.0.validate("", max_payload, &mut problems) else {
            return Err(ApiError::Invalid(problems).into());
        };
        let accepted = self.state.publish(req, &event).await?;
        Ok(PublishOne::Accepted(Json(accepted)))
    }

    /// Publish a batch; answers once the broker acknowledged every event (on 503 some
    /// may be written: retry the batch, the worker processes each id once).
    #[oai(
        path = "/events/batch",
        method = "post",
        operation_id = "publishEvents"
    )]
    async fn publish_batch(
        &self,
        req: &Request,
        body: Json<BatchRequest>,
    ) -> Result<PublishBatch, PublishErrors> {
        self.state.require_api()?;
        let settings = &self.state.settings.events;
        let mut problems = Vec::new();
        let requests = body
            .0
            .events
            .check("events", &mut problems)
            .unwrap_or_default();
        if requests.len() > settings.max_batch {
            problems.push(FieldProblem::new(
                "events",
                format!(
                    "must hold at most {} events (events.max_batch)",
                    settings.max_batch
                ),
            ));
        }
        let events: Vec<Event> = requests
            .into_iter()
            .enumerate()
            .filter_map(|(i, request)| {
                request.validate(
                    &format!("events[{i}]."),
                    settings.max_payload_bytes,
                    &mut problems,
                )
            })
            .collect();
        if !problems.is_empty() {
            return Err(ApiError::Invalid(problems).into());
        }
        let results = join_all(events.iter().map(|event| self.state.publish(req, event))).await;
        let accepted = results.into_iter().collect::<Result<Vec<_>, _>>()?;
        Ok(PublishBatch::Accepted(Json(BatchAccepted { accepted })))
    }
}
