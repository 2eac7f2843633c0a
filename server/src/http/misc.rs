//! Health, version and capability probes.

use actix_web::{web, HttpResponse};
use serde_json::json;

/// The MLflow release whose REST API this server speaks.
pub const MLFLOW_API_VERSION: &str = "3.17.2";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health").get(health))
        .service(web::resource("/version").get(version))
        .service(web::resource("/api/3.0/mlflow/server-info").get(server_info))
        .service(web::resource("/ajax-api/3.0/mlflow/server-info").get(server_info));
}

async fn health() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("OK")
}

async fn version() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header(("X-Cairn-Version", env!("CARGO_PKG_VERSION")))
        .body(MLFLOW_API_VERSION)
}

async fn server_info() -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "store_type": "SqlStore",
        "workspaces_enabled": false,
        "trace_archival_enabled": false,
        "multipart_uploads_enabled": false,
        "multipart_downloads_enabled": false,
        "presigned_upload_run_id_supported": false,
        "presigned_upload_model_id_supported": false,
        "features_enabled": {},
        "server": "cairn",
        "cairn_version": env!("CARGO_PKG_VERSION"),
    }))
}
