//! Cairn's artifact additions beside MLflow's API: versions of a path, fetching one by
//! digest, re-hashing stored blobs, and garbage collection.

use super::artifacts::{invalid_path, required_query_path, serve, ArtifactService};
use super::request::Req;
use super::{ok_json, HttpError};
use crate::artifacts::path::ArtifactPath;
use actix_web::{web, HttpRequest, HttpResponse};
use cairn_schema::ApiError;
use serde_json::{json, Value};

pub(super) async fn list_artifact_versions(
    req: HttpRequest,
    artifacts: ArtifactService,
) -> Result<HttpResponse, HttpError> {
    let path = ArtifactPath::parse(&required_query_path(&req)?).map_err(invalid_path)?;
    let versions: Vec<Value> = artifacts
        .versions(&path)
        .await?
        .into_iter()
        .map(|v| json!({"version": v.version, "digest": v.digest, "file_size": v.size, "creation_time": v.created, "current": v.current}))
        .collect();
    Ok(ok_json(vec![
        ("path", json!(path.as_str())),
        ("versions", Value::Array(versions)),
    ]))
}

pub(super) async fn download_artifact_version(
    req: HttpRequest,
    artifacts: ArtifactService,
) -> Result<HttpResponse, HttpError> {
    let query = Req::read(&req, &[])?;
    let path = ArtifactPath::parse(&required_query_path(&req)?).map_err(invalid_path)?;
    let digest = query.str_req("digest")?;
    serve(&req, &artifacts, &path, Some(&digest)).await
}

pub(super) async fn verify_artifacts(
    req: HttpRequest,
    body: web::Bytes,
    artifacts: ArtifactService,
) -> Result<HttpResponse, HttpError> {
    let fields = Req::read(&req, &body)?;
    let path = match fields.str_opt("path")? {
        Some(p) => Some(ArtifactPath::parse(&p).map_err(invalid_path)?),
        None => None,
    };
    let results = artifacts.verify(path.as_ref()).await?;
    let all_ok = results.iter().all(|r| r.ok);
    let blobs: Vec<Value> = results
        .into_iter()
        .map(|r| json!({"digest": r.digest, "ok": r.ok}))
        .collect();
    Ok(ok_json(vec![
        ("ok", json!(all_ok)),
        ("blobs", Value::Array(blobs)),
    ]))
}

pub(super) async fn collect_garbage(
    req: HttpRequest,
    body: web::Bytes,
    artifacts: ArtifactService,
) -> Result<HttpResponse, HttpError> {
    let fields = Req::read(&req, &body)?;
    let older_than = fields.i64_opt("older_than_ms")?.unwrap_or(0);
    if older_than < 0 {
        return Err(ApiError::invalid("older_than_ms must not be negative").into());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let collected = artifacts.collect_garbage(now - older_than).await?;
    Ok(ok_json(vec![
        ("runs", json!(collected.runs)),
        ("blobs", json!(collected.blobs)),
        ("uploads", json!(collected.uploads)),
    ]))
}
