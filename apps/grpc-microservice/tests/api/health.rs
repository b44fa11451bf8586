//! grpc.health.v1 and the HTTP probes on the same port, and server reflection.

use futures_util::StreamExt;
use poem_grpc::{Code, Request};

use crate::helpers::health_proto::{HealthCheckRequest, health_check_response::ServingStatus};
use crate::helpers::reflection_proto::{
    ServerReflectionRequest, server_reflection_request::MessageRequest,
    server_reflection_response::MessageResponse,
};
use crate::helpers::{code, spawn};

fn check(service: &str) -> Request<HealthCheckRequest> {
    Request::new(HealthCheckRequest {
        service: service.into(),
    })
}

#[tokio::test]
async fn grpc_health_serves_the_inventory_and_the_whole_server() {
    let mut app = spawn().await;
    let health = app.health();
    for service in ["inventory.v1.Inventory", ""] {
        let answer = health.check(check(service)).await.unwrap().into_inner();
        assert_eq!(answer.status, ServingStatus::Serving as i32, "{service:?}");
    }
    assert_eq!(
        code(health.check(check("nope.v1.Nope")).await),
        Code::NotFound
    );
    // Faults never touch health.
    let mut req = check("inventory.v1.Inventory");
    req.metadata_mut().insert("x-fault-error", "503");
    assert!(health.check(req).await.is_ok());
    app.stop().await;
}

#[tokio::test]
async fn http_probes_share_the_grpc_port() {
    let mut app = spawn().await;
    for path in ["/healthz", "/readyz"] {
        let response = app
            .client
            .get(format!("{}{path}", app.uri()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn reflection_lists_the_services_and_serves_the_inventory_file() {
    let mut app = spawn().await;
    let requests = vec![
        ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        },
        ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::FileContainingSymbol(
                "inventory.v1.Inventory".into(),
            )),
        },
    ];
    let answers: Vec<_> = app
        .reflection()
        .server_reflection_info(Request::new_streaming(futures_util::stream::iter(
            requests.into_iter().map(Ok),
        )))
        .await
        .unwrap()
        .into_inner()
        .collect()
        .await;
    let Some(MessageResponse::ListServicesResponse(list)) =
        answers[0].as_ref().unwrap().message_response.clone()
    else {
        panic!("{answers:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"inventory.v1.Inventory".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_owned()),
        "{names:?}"
    );
    let Some(MessageResponse::FileDescriptorResponse(file)) =
        answers[1].as_ref().unwrap().message_response.clone()
    else {
        panic!("{answers:?}");
    };
    assert!(!file.file_descriptor_proto.is_empty());
    app.stop().await;
}
