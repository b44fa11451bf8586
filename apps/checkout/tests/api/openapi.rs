//! `apps/checkout/openapi.json` is the real route table (OBI's route patterns are
//! generated from it); `UPDATE_OPENAPI=1 cargo test -p checkout` rewrites it.

#[tokio::test]
async fn the_committed_openapi_document_matches_the_routes() {
    test_support::openapi::assert_committed(
        env!("CARGO_MANIFEST_DIR"),
        env!("CARGO_PKG_NAME"),
        &checkout::routes::openapi_document(),
    );
}
