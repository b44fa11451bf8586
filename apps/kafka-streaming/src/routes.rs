//! The HTTP API (poem-openapi): publishing events (one or a batch), the worker's lag
//! and counters, and problem+json for errors poem raises itself.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures_util::future::join_all;
use poem::http::{Method, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, OpenApiService, Tags};
use rdkafka::consumer::BaseConsumer;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;

use crate::error::{ApiError, ErrorResponse};
use crate::event::{Event, EventRequest};
use crate::kafka::PartitionLag;
use crate::scenarios::{POISON_RATE, PRODUCER_BURST};
use crate::settings::Settings;
use crate::worker::Stats;

/// What handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The idempotent producer.
    pub producer: FutureProducer,
    /// Metadata, committed offsets and watermarks.
    pub inspector: Arc<BaseConsumer>,
    /// The worker's counters.
    pub stats: Arc<Stats>,
    /// The loaded configuration.
    pub settings: Arc<Settings>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// Groups of operations in the OpenAPI document.
#[derive(Debug, Tags)]
pub enum Tag {
    /// Publishing events.
    Events,
    /// The consumer group worker.
    Consumer,
}

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
#[derive(Debug, Clone, Object)]
pub struct BatchRequest {
    /// 1 to `events.max_batch` events.
    pub events: Option<Vec<EventRequest>>,
}

/// Every event of a batch, acknowledged.
#[derive(Debug, Clone, Object)]
pub struct BatchAccepted {
    /// In request order.
    pub accepted: Vec<Accepted>,
}

/// The group's lag on the input topic.
#[derive(Debug, Clone, Object)]
pub struct Lag {
    /// Consumer group.
    pub group: String,
    /// Input topic.
    pub topic: String,
    /// Sum over partitions.
    pub total: i64,
    /// Per partition.
    pub partitions: Vec<PartitionLag>,
}

/// The worker's counters since start.
#[derive(Debug, Clone, Object)]
pub struct WorkerStats {
    /// Whether this process runs the worker.
    pub running: bool,
    /// Events processed.
    pub processed: u64,
    /// Duplicates skipped.
    pub duplicates: u64,
    /// Attempts retried.
    pub retries: u64,
    /// Messages dead-lettered.
    pub dead_lettered: u64,
    /// Offset commits.
    pub commits: u64,
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

    /// Writes `event` and waits for the broker's acknowledgement; `poison` writes an
    /// undecodable record instead, `copies` > 1 writes it that many times, one
    /// acknowledged write after another.
    async fn publish(
        &self,
        event: &Event,
        poison: bool,
        copies: u32,
    ) -> Result<Accepted, ApiError> {
        let topic = &self.settings.kafka.input_topic;
        let mut value = serde_json::to_vec(event).map_err(anyhow::Error::from)?;
        if poison {
            value.splice(0..0, b"\0poison:".iter().copied());
        }
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: "content-type",
                value: Some("application/json"),
            })
            .insert(Header {
                key: "event-type",
                value: Some(event.kind.as_str()),
            });
        let queue = Timeout::After(self.settings.kafka.message_timeout);
        // Copies (producer_burst) go one after another, each awaited: sent at once,
        // librdkafka would pack them into one produce request, and the burst would
        // show in the topic but not in the requests OBI counts.
        let mut first = None;
        for _ in 0..copies.max(1) {
            let record = FutureRecord::to(topic)
                .key(event.id.as_bytes())
                .payload(value.as_slice())
                .headers(headers.clone());
            let delivery = self
                .producer
                .send(record, queue)
                .await
                .map_err(|(err, _)| ApiError::from(err))?;
            first.get_or_insert(delivery);
        }
        let delivery = first.ok_or_else(|| anyhow::anyhow!("nothing was sent"))?;
        Ok(Accepted {
            id: event.id.clone(),
            topic: topic.clone(),
            partition: delivery.partition,
            offset: delivery.offset,
        })
    }

    fn copies(&self, req: &Request) -> u32 {
        if crate::scenarios_active(req, PRODUCER_BURST) {
            self.settings.scenarios.burst_copies
        } else {
            1
        }
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
    ) -> Result<PublishOne, ErrorResponse> {
        self.state.require_api()?;
        let mut problems = Vec::new();
        let Some(event) = body.0.validate(
            "",
            self.state.settings.events.max_payload_bytes,
            &mut problems,
        ) else {
            return Err(ApiError::Invalid(problems).into());
        };
        let poison = crate::scenarios_active(req, POISON_RATE);
        let accepted = self
            .state
            .publish(&event, poison, self.state.copies(req))
            .await?;
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
    ) -> Result<PublishBatch, ErrorResponse> {
        self.state.require_api()?;
        let max = self.state.settings.events.max_batch;
        let mut problems = Vec::new();
        let requests = body.0.events.unwrap_or_default();
        if requests.is_empty() || requests.len() > max {
            problems.push(crate::error::FieldProblem {
                field: "events".into(),
                message: format!("must hold 1 to {max} events"),
            });
        }
        let events: Vec<Event> = requests
            .into_iter()
            .enumerate()
            .filter_map(|(i, request)| {
                request.validate(
                    &format!("events[{i}]."),
                    self.state.settings.events.max_payload_bytes,
                    &mut problems,
                )
            })
            .collect();
        if !problems.is_empty() {
            return Err(ApiError::Invalid(problems).into());
        }
        let poison = crate::scenarios_active(req, POISON_RATE);
        let copies = self.state.copies(req);
        let results = join_all(
            events
                .iter()
                .map(|event| self.state.publish(event, poison, copies)),
        )
        .await;
        let accepted = results.into_iter().collect::<Result<Vec<_>, _>>()?;
        Ok(PublishBatch::Accepted(Json(BatchAccepted { accepted })))
    }
}

/// The worker's view.
#[derive(Debug)]
pub struct ConsumerApi {
    /// Shared state.
    pub state: AppState,
}

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Consumer")]
impl ConsumerApi {
    /// The consumer group's lag on the input topic, per partition.
    #[oai(path = "/consumer/lag", method = "get", operation_id = "consumerLag")]
    async fn lag(&self) -> Result<Json<Lag>, ErrorResponse> {
        let inspector = self.state.inspector.clone();
        let settings = self.state.settings.clone();
        let partitions = tokio::task::spawn_blocking(move || {
            crate::kafka::lag(
                &inspector,
                &settings.kafka.input_topic,
                settings.kafka.request_timeout,
            )
        })
        .await
        .map_err(|err| ApiError::Unexpected(err.into()))?
        .map_err(ApiError::from)?;
        Ok(Json(Lag {
            group: self.state.settings.kafka.group_id.clone(),
            topic: self.state.settings.kafka.input_topic.clone(),
            total: partitions.iter().map(|p| p.lag).sum(),
            partitions,
        }))
    }

    /// What this process's worker did since start.
    #[oai(
        path = "/consumer/stats",
        method = "get",
        operation_id = "consumerStats"
    )]
    async fn stats(&self) -> Json<WorkerStats> {
        let stats = &self.state.stats;
        Json(WorkerStats {
            running: self.state.settings.roles.worker,
            processed: stats.processed.load(Ordering::Relaxed),
            duplicates: stats.duplicates.load(Ordering::Relaxed),
            retries: stats.retries.load(Ordering::Relaxed),
            dead_lettered: stats.dead_lettered.load(Ordering::Relaxed),
            commits: stats.commits.load(Ordering::Relaxed),
        })
    }
}

/// The API's operations, as one type.
pub type Api = (EventsApi, ConsumerApi);

/// The OpenAPI service: the real route table, which `apps/kafka-streaming/openapi.json`
/// (and so OBI's route patterns) are generated from.
pub fn api(state: AppState) -> OpenApiService<Api, ()> {
    OpenApiService::new(
        (
            EventsApi {
                state: state.clone(),
            },
            ConsumerApi { state },
        ),
        "kafka-streaming",
        env!("CARGO_PKG_VERSION"),
    )
    .description("Event ingestion on Kafka: an idempotent producer behind an HTTP events API, and a consumer group worker with retries, de-duplication, a dead-letter topic and lag per partition.")
}

/// An events body poem refuses (400) for a field of the wrong JSON type becomes a 422
/// `validation` naming the field and the type it must have, like every other invalid
/// field. Wraps the kit's `problem_errors`, which gives every other error of poem's
/// the problem+json shape.
pub async fn wrong_types_are_invalid<E: Endpoint>(
    next: E,
    mut req: Request,
) -> poem::Result<Response> {
    let batch = match (req.method(), req.uri().path()) {
        (&Method::POST, "/api/v1/events") => false,
        (&Method::POST, "/api/v1/events/batch") => true,
        _ => return next.call(req).await.map(IntoResponse::into_response),
    };
    let body = req.take_body().into_bytes().await?;
    req.set_body(body.clone());
    let response = next.call(req).await?.into_response();
    if response.status() == StatusCode::BAD_REQUEST {
        let problems = crate::event::type_problems(&body, batch);
        if !problems.is_empty() {
            return Ok(ErrorResponse::from(ApiError::Invalid(problems)).into_response());
        }
    }
    Ok(response)
}
