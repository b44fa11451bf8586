//! The fault scenarios this app plays beyond the kit's `latency` and `errors`, and
//! how a status the fault model answers with maps to a gRPC status code.

use poem::http::StatusCode;
use poem_grpc::Code;
use service_kit::faults::{Catalog, ScenarioInfo};

/// `faults.deadline_storm`: inventory RPCs take `grpc.storm_delay` longer.
pub const DEADLINE_STORM: &str = "deadline_storm";
/// `faults.stalled_stream`: streams send one message, then stall.
pub const STALLED_STREAM: &str = "stalled_stream";

/// Every scenario of grpc-microservice.
pub const CATALOG: Catalog = &[
    ScenarioInfo {
        name: DEADLINE_STORM,
        description: "inventory RPCs take grpc.storm_delay longer: calls with shorter deadlines end in DEADLINE_EXCEEDED (rpc_response_status_code 4) and their duration clusters at the deadline",
    },
    ScenarioInfo {
        name: STALLED_STREAM,
        description: "WatchStock and ReserveStream send one message, then nothing until the client leaves: stream durations grow to the client's deadline",
    },
];

/// The gRPC code of an HTTP status the fault model asks for (the mapping of
/// gRPC's HTTP-to-gRPC table, extended to the codes clients test with).
pub fn grpc_code(status: StatusCode) -> Code {
    match status.as_u16() {
        400 => Code::InvalidArgument,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::NotFound,
        409 => Code::Aborted,
        412 => Code::FailedPrecondition,
        429 => Code::ResourceExhausted,
        499 => Code::Cancelled,
        501 => Code::Unimplemented,
        502..=503 => Code::Unavailable,
        504 => Code::DeadlineExceeded,
        _ if status.is_client_error() => Code::InvalidArgument,
        _ => Code::Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_statuses_map_to_grpc_codes() {
        assert_eq!(
            grpc_code(StatusCode::SERVICE_UNAVAILABLE),
            Code::Unavailable
        );
        assert_eq!(grpc_code(StatusCode::INTERNAL_SERVER_ERROR), Code::Internal);
        assert_eq!(
            grpc_code(StatusCode::GATEWAY_TIMEOUT),
            Code::DeadlineExceeded
        );
        assert_eq!(
            grpc_code(StatusCode::TOO_MANY_REQUESTS),
            Code::ResourceExhausted
        );
        assert_eq!(grpc_code(StatusCode::NOT_FOUND), Code::NotFound);
        assert_eq!(grpc_code(StatusCode::IM_A_TEAPOT), Code::InvalidArgument);
        assert_eq!(grpc_code(StatusCode::BAD_GATEWAY), Code::Unavailable);
    }
}
