//! Health, version and capability probes, and the logged-model search the 3.17 client calls.

use super::request::{encode_page_token, Req};
use super::{call, ok_json, HttpError, Store};
use crate::store::LoggedModelQuery;
use actix_web::{web, HttpRequest, HttpResponse, Scope};
use cairn_schema::filter::{parse_mlflow_filter, Dialect};
use cairn_schema::{validate, ApiError};
use serde_json::json;

/// The MLflow release whose REST API this server speaks.
pub const MLFLOW_API_VERSION: &str = "3.17.2";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health").get(health))
        .service(web::resource("/version").get(version))
        .service(web::resource("/api/3.0/mlflow/server-info").get(server_info))
        .service(web::resource("/ajax-api/3.0/mlflow/server-info").get(server_info));
}

pub fn logged_model_routes(scope: Scope) -> Scope {
    scope.service(web::resource("/logged-models/search").post(search_logged_models))
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

async fn search_logged_models(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let ids = req.str_list("experiment_ids")?;
    if ids.is_empty() {
        return Err(ApiError::missing("experiment_ids").into());
    }
    let experiment_ids = ids
        .iter()
        .map(|id| validate::experiment_id(id))
        .collect::<Result<Vec<_>, _>>()?;
    let filter = match req.str_opt("filter")? {
        Some(f) => {
            parse_mlflow_filter(Dialect::LoggedModels, &f).map_err(|e| ApiError::invalid(e.0))?
        }
        None => None,
    };
    let max_results = req.i64_opt("max_results")?.unwrap_or(50);
    if max_results < 1 {
        return Err(ApiError::invalid("max_results must be a positive integer.").into());
    }
    let query = LoggedModelQuery {
        experiment_ids,
        filter,
        max_results,
        offset: req.page_offset()?,
    };
    let page = call(&store, move |s| s.search_logged_models(&query)).await?;
    Ok(ok_json(vec![
        ("models", json!(page.items)),
        (
            "next_page_token",
            page.next_offset
                .map(encode_page_token)
                .map(Into::into)
                .unwrap_or_default(),
        ),
    ]))
}
