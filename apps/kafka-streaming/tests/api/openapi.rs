//! `apps/kafka-streaming/openapi.json` is the real route table (OBI's route patterns
//! are generated from it); `UPDATE_OPENAPI=1 cargo test -p kafka-streaming` rewrites it.

use std::path::Path;
use std::sync::Arc;

use kafka_streaming::routes::{self, AppState};
use kafka_streaming::settings::{DEFAULTS, Settings};

#[tokio::test]
async fn the_committed_openapi_document_matches_the_routes() {
    let settings: Settings = service_kit::config::load_from(DEFAULTS, None, []).unwrap();
    let state = AppState {
        producer: kafka_streaming::kafka::producer(&settings.kafka, "spec").unwrap(),
        inspector: Arc::new(kafka_streaming::kafka::inspector(&settings.kafka).unwrap()),
        stats: Arc::default(),
        settings: Arc::new(settings),
    };
    let spec = format!("{}\n", routes::api(state).spec());
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &spec).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == spec,
        "{} is out of date; run `UPDATE_OPENAPI=1 cargo test -p kafka-streaming --test api openapi` and commit it",
        path.display()
    );
}
