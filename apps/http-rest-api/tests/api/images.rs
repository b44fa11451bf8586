//! Product images: upload limits (declared and streamed), the content-type
//! allow-list, the byte budget, and downloads with their content type.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{TestApp, problem, spawn_app, spawn_app_with};

fn png(size: usize) -> Vec<u8> {
    let mut data = b"\x89PNG\r\n\x1a\n".to_vec();
    data.resize(size.max(8), 7);
    data
}

fn form(data: Vec<u8>, content_type: &str) -> Form {
    Form::new().part(
        "file",
        Part::bytes(data)
            .file_name("image.bin")
            .mime_str(content_type)
            .unwrap(),
    )
}

async fn upload(app: &TestApp, token: &str, id: &Value, form: Form) -> reqwest::Response {
    app.client
        .put(app.url(&format!("/api/v1/products/{id}/image")))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_uploaded_image_downloads_with_its_content_type() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let created = app.seed(&token, "MUG-1", "kitchen", 1).await;

    let response = upload(&app, &token, &created["id"], form(png(2048), "image/png")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["image_type"], "image/png");
    assert_eq!(body["version"], 2);

    let download = app
        .client
        .get(app.url(&format!("/api/v1/products/{}/image", created["id"])))
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "image/png");
    assert_eq!(download.bytes().await.unwrap().to_vec(), png(2048));
}

#[tokio::test]
async fn a_product_without_an_image_or_a_missing_product_is_a_404() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let created = app.seed(&token, "MUG-1", "kitchen", 1).await;
    for id in [created["id"].to_string(), "999".to_owned()] {
        let response = app
            .client
            .get(app.url(&format!("/api/v1/products/{id}/image")))
            .send()
            .await
            .unwrap();
        problem(response, StatusCode::NOT_FOUND).await;
    }
    let response = upload(&app, &token, &Value::from(999), form(png(100), "image/png")).await;
    problem(response, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn a_declared_oversized_upload_is_a_413() {
    let app = spawn_app_with(&[("APP__IMAGES__MAX_BYTES", "4096")]).await;
    let token = app.token("editor").await;
    let created = app.seed(&token, "MUG-1", "kitchen", 1).await;
    // Within the framing allowance, but the file itself is over the limit.
    let response = upload(&app, &token, &created["id"], form(png(5000), "image/png")).await;
    let body = problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(body["max_bytes"], 4096);
    // Far over: refused from Content-Length before the body is read.
    let response = upload(
        &app,
        &token,
        &created["id"],
        form(png(64 * 1024), "image/png"),
    )
    .await;
    problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
}

#[tokio::test]
async fn a_chunked_upload_is_cut_off_once_past_the_limit() {
    let app = spawn_app_with(&[("APP__IMAGES__MAX_BYTES", "4096")]).await;
    let token = app.token("editor").await;
    let created = app.seed(&token, "MUG-1", "kitchen", 1).await;

    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port()))
        .await
        .unwrap();
    let head = format!(
        "PUT /api/v1/products/{}/image HTTP/1.1\r\nhost: test\r\nauthorization: Bearer {token}\r\n\
         content-type: multipart/form-data; boundary=XYZ\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
        created["id"]
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let part = "--XYZ\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.png\"\r\ncontent-type: image/png\r\n\r\n";
    stream
        .write_all(format!("{:x}\r\n{part}\r\n", part.len()).as_bytes())
        .await
        .unwrap();
    // Keep streaming 1 KiB chunks, far past the limit, until the server answers.
    let chunk = vec![b'a'; 1024];
    for _ in 0..200 {
        let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        if stream.write_all(&frame).await.is_err() {
            break;
        }
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains("upload-too-large"), "{response}");
}

#[tokio::test]
async fn a_content_type_outside_the_allow_list_is_a_415() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let created = app.seed(&token, "MUG-1", "kitchen", 1).await;
    let response = upload(
        &app,
        &token,
        &created["id"],
        form(b"<svg/>".to_vec(), "image/svg+xml"),
    )
    .await;
    let body = problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    assert!(
        body["detail"].as_str().unwrap().contains("image/svg+xml"),
        "{body}"
    );
}

#[tokio::test]
async fn bytes_that_contradict_the_declared_type_are_a_415() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let created = app.seed(&token, "MUG-1", "kitchen", 1).await;
    let response = upload(&app, &token, &created["id"], form(png(100), "image/jpeg")).await;
    problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
}

#[tokio::test]
async fn bytes_that_are_no_image_are_a_415_naming_it_and_nothing_is_stored() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let created = app.seed(&token, "MUG-1", "kitchen", 1).await;
    let html = b"<html><script>alert(1)</script></html>".to_vec();
    let response = upload(&app, &token, &created["id"], form(html, "image/png")).await;
    let body = problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    assert_eq!(
        body["detail"],
        "the file's bytes are not a PNG, JPEG, GIF or WebP image (it says `image/png`)",
        "{body}"
    );
    let download = app
        .client
        .get(app.url(&format!("/api/v1/products/{}/image", created["id"])))
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_part_without_a_content_type_is_typed_by_its_bytes() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let created = app.seed(&token, "MUG-1", "kitchen", 1).await;
    let untyped = Form::new().part("file", Part::bytes(png(64)).file_name("a.png"));
    let response = upload(&app, &token, &created["id"], untyped).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["image_type"], "image/png", "{body}");
    let untyped = Form::new().part("file", Part::bytes(b"plain text".to_vec()).file_name("a"));
    let response = upload(&app, &token, &created["id"], untyped).await;
    problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
}

#[tokio::test]
async fn a_form_without_a_file_or_a_non_multipart_body_is_refused() {
    let app = spawn_app().await;
    let token = app.token("editor").await;
    let created = app.seed(&token, "MUG-1", "kitchen", 1).await;
    let response = upload(&app, &token, &created["id"], Form::new().text("other", "x")).await;
    problem(response, StatusCode::BAD_REQUEST).await;
    let response = app
        .client
        .put(app.url(&format!("/api/v1/products/{}/image", created["id"])))
        .bearer_auth(&token)
        .header("content-type", "image/png")
        .body(png(100))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
}

#[tokio::test]
async fn uploads_need_an_editor_token() {
    let app = spawn_app().await;
    let editor = app.token("editor").await;
    let reader = app.token("reader").await;
    let created = app.seed(&editor, "MUG-1", "kitchen", 1).await;
    let response = upload(&app, &reader, &created["id"], form(png(100), "image/png")).await;
    problem(response, StatusCode::FORBIDDEN).await;
    let response = app
        .client
        .put(app.url(&format!("/api/v1/products/{}/image", created["id"])))
        .multipart(form(png(100), "image/png"))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn the_image_byte_budget_is_a_507_when_spent() {
    let app = spawn_app_with(&[("APP__STORE__IMAGE_BYTES", "3000")]).await;
    let token = app.token("editor").await;
    let first = app.seed(&token, "MUG-1", "kitchen", 1).await;
    let second = app.seed(&token, "MUG-2", "kitchen", 1).await;
    let response = upload(&app, &token, &first["id"], form(png(2000), "image/png")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = upload(&app, &token, &second["id"], form(png(2000), "image/png")).await;
    problem(response, StatusCode::INSUFFICIENT_STORAGE).await;
}
