//! `apps/sql-application/openapi.json` is the real route table (OBI's route patterns
//! are generated from it); `UPDATE_OPENAPI=1 cargo test -p sql-application` rewrites it.

use std::path::Path;
use std::sync::Arc;

use sql_application::routes::{self, AppState};
use sql_application::settings::{DEFAULTS, Settings};

#[tokio::test]
async fn the_committed_openapi_document_matches_the_routes() {
    let settings: Settings = service_kit::config::load_from(DEFAULTS, None, []).unwrap();
    let state = AppState {
        pool: sql_application::db::pool(&settings.database),
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
        "{} is out of date; run `UPDATE_OPENAPI=1 cargo test -p sql-application --test api openapi` and commit it",
        path.display()
    );
}
