//! Rich error details: `google.rpc.Status` carrying a `google.rpc.BadRequest`, sent
//! in the `grpc-status-details-bin` trailer so clients see which field was wrong.
//!
//! poem-grpc sends only `grpc-status` and `grpc-message` for a failed call, so a
//! handler leaves the encoded details in the request's [`DetailsSlot`] and the
//! [`crate::guard`] middleware adds the trailer to the response.

use std::sync::{Arc, Mutex};

use poem_grpc::{Code, Status};
use prost::Message;

/// The trailer holding the encoded `google.rpc.Status`.
pub const DETAILS_HEADER: &str = "grpc-status-details-bin";

/// `google.rpc.Status`.
#[derive(Clone, PartialEq, Message)]
pub struct RpcStatus {
    /// The gRPC code.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// Developer-facing message.
    #[prost(string, tag = "2")]
    pub message: String,
    /// Typed details.
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<Any>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, Message)]
pub struct Any {
    /// `type.googleapis.com/<full message name>`.
    #[prost(string, tag = "1")]
    pub type_url: String,
    /// The encoded message.
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// `google.rpc.BadRequest`.
#[derive(Clone, PartialEq, Message)]
pub struct BadRequest {
    /// One entry per invalid field.
    #[prost(message, repeated, tag = "1")]
    pub field_violations: Vec<FieldViolation>,
}

/// `google.rpc.BadRequest.FieldViolation`.
#[derive(Clone, PartialEq, Message)]
pub struct FieldViolation {
    /// Path of the field, like `quantity` or `adjustments[3].sku`.
    #[prost(string, tag = "1")]
    pub field: String,
    /// What is wrong with it.
    #[prost(string, tag = "2")]
    pub description: String,
}

/// The `type_url` of [`BadRequest`].
pub const BAD_REQUEST_TYPE: &str = "type.googleapis.com/google.rpc.BadRequest";

/// Where a handler leaves details for the middleware (one per call).
#[derive(Debug, Clone, Default)]
pub struct DetailsSlot(Arc<Mutex<Option<Vec<u8>>>>);

impl DetailsSlot {
    /// Stores encoded details.
    pub fn put(&self, encoded: Vec<u8>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(encoded);
    }

    /// Takes the details, if a handler left some.
    pub fn take(&self) -> Option<Vec<u8>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// Field violations of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(pub Vec<(String, String)>);

impl Violations {
    /// Records one invalid field.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push((field.into(), description.into()));
    }

    /// No field was invalid.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message of the INVALID_ARGUMENT status: every violation, readable.
    pub fn message(&self) -> String {
        let parts: Vec<String> = self.0.iter().map(|(f, d)| format!("{f}: {d}")).collect();
        format!("invalid request: {}", parts.join("; "))
    }

    /// The encoded `google.rpc.Status` with a `BadRequest` detail.
    pub fn encode(&self) -> Vec<u8> {
        let bad = BadRequest {
            field_violations: self
                .0
                .iter()
                .map(|(field, description)| FieldViolation {
                    field: field.clone(),
                    description: description.clone(),
                })
                .collect(),
        };
        RpcStatus {
            code: i32::from(Code::InvalidArgument.as_u16()),
            message: self.message(),
            details: vec![Any {
                type_url: BAD_REQUEST_TYPE.into(),
                value: bad.encode_to_vec(),
            }],
        }
        .encode_to_vec()
    }

    /// INVALID_ARGUMENT naming every violation; the details go to `slot` when given.
    pub fn into_status(self, slot: Option<&DetailsSlot>) -> Status {
        if let Some(slot) = slot {
            slot.put(self.encode());
        }
        Status::new(Code::InvalidArgument).with_message(self.message())
    }
}

/// Decodes the field violations of a `grpc-status-details-bin` value (tests and clients).
pub fn decode_violations(encoded: &[u8]) -> Option<Vec<(String, String)>> {
    let status = RpcStatus::decode(encoded).ok()?;
    let any = status
        .details
        .into_iter()
        .find(|a| a.type_url == BAD_REQUEST_TYPE)?;
    let bad = BadRequest::decode(any.value.as_slice()).ok()?;
    Some(
        bad.field_violations
            .into_iter()
            .map(|v| (v.field, v.description))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_round_trip() {
        let mut v = Violations::default();
        v.add("quantity", "must be positive");
        let slot = DetailsSlot::default();
        let status = v.clone().into_status(Some(&slot));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().unwrap().contains("quantity"));
        let encoded = slot.take().unwrap();
        assert_eq!(decode_violations(&encoded).unwrap(), v.0);
        assert!(slot.take().is_none());
    }
}
