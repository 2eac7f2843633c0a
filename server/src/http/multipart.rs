//! MLflow's multipart upload calls (create, part, complete, abort) and presigned downloads,
//! backed by the artifact service: parts are objects, completion streams them into one blob.

use super::artifacts::{invalid_path, tail_path, ArtifactService};
use super::request::Req;
use super::{ok_json, HttpError};
use crate::artifacts::path::ArtifactPath;
use crate::store::ArtifactKind;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use cairn_schema::ApiError;
use serde_json::{json, Value};

fn base_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

/// The file a multipart call names: the directory in the URL plus the base name of the
/// client's local file in the body's `path`, as MLflow's proxy places it.
fn multipart_target(
    req: &HttpRequest,
    marker: &str,
    fields: &Req,
) -> Result<ArtifactPath, HttpError> {
    let dir = tail_path(req, marker)?;
    let local = fields.str_req("path")?;
    let name = local.rsplit(['/', '\\']).next().unwrap_or_default();
    let name = ArtifactPath::parse(name).map_err(invalid_path)?;
    if name.is_root() {
        return Err(ApiError::invalid("Invalid path").into());
    }
    Ok(dir.join(&name))
}

/// Upload ids are the 32 hex digits `create` hands out; anything else names no upload.
fn check_upload_id(upload_id: &str) -> Result<(), HttpError> {
    if upload_id.len() != 32 || !upload_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::invalid("Invalid upload id").into());
    }
    Ok(())
}

pub(super) async fn create_multipart_upload(
    req: HttpRequest,
    body: web::Bytes,
    artifacts: ArtifactService,
) -> Result<HttpResponse, HttpError> {
    let fields = Req::read(&req, &body)?;
    let path = multipart_target(&req, "/mpu/create/", &fields)?;
    let parts = fields.i64_opt("num_parts")?.unwrap_or(1);
    if !(1..=10_000).contains(&parts) {
        return Err(ApiError::invalid("num_parts must be between 1 and 10000").into());
    }
    let upload_id = artifacts.create_upload(&path).await?;
    let base = base_url(&req);
    let credentials: Vec<Value> = (1..=parts)
        .map(|n| json!({"url": format!("{base}/api/2.0/mlflow-artifacts/mpu/part/{upload_id}/{n}"), "part_number": n, "headers": {}}))
        .collect();
    Ok(ok_json(vec![
        ("upload_id", json!(upload_id)),
        ("credentials", Value::Array(credentials)),
    ]))
}

pub(super) async fn upload_part(
    req: HttpRequest,
    body: web::Payload,
    artifacts: ArtifactService,
) -> Result<HttpResponse, HttpError> {
    let upload_id = req
        .match_info()
        .get("upload_id")
        .unwrap_or_default()
        .to_owned();
    check_upload_id(&upload_id)?;
    let part: u32 = req
        .match_info()
        .get("part")
        .and_then(|p| p.parse().ok())
        .filter(|p| (1..=10_000).contains(p))
        .ok_or_else(|| ApiError::invalid("Invalid part number"))?;
    let digest = artifacts.put_part(&upload_id, part, body).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{digest}\"")))
        .finish())
}

pub(super) async fn complete_multipart_upload(
    req: HttpRequest,
    body: web::Bytes,
    artifacts: ArtifactService,
) -> Result<HttpResponse, HttpError> {
    let fields = Req::read(&req, &body)?;
    let path = multipart_target(&req, "/mpu/complete/", &fields)?;
    let upload_id = fields.str_req("upload_id")?;
    check_upload_id(&upload_id)?;
    let mut parts = fields
        .objects("parts")?
        .iter()
        .map(|p| p.i64_req("part_number").map(|n| n as u32))
        .collect::<Result<Vec<_>, _>>()?;
    if parts.is_empty() {
        return Err(ApiError::missing("parts").into());
    }
    parts.sort_unstable();
    parts.dedup();
    artifacts.complete_upload(&upload_id, &path, &parts).await?;
    Ok(ok_json(vec![]))
}

pub(super) async fn abort_multipart_upload(
    req: HttpRequest,
    body: web::Bytes,
    artifacts: ArtifactService,
) -> Result<HttpResponse, HttpError> {
    let fields = Req::read(&req, &body)?;
    multipart_target(&req, "/mpu/abort/", &fields)?;
    let upload_id = fields.str_req("upload_id")?;
    check_upload_id(&upload_id)?;
    artifacts.abort_upload(&upload_id).await?;
    Ok(ok_json(vec![]))
}

pub(super) async fn presigned_download(
    req: HttpRequest,
    artifacts: ArtifactService,
) -> Result<HttpResponse, HttpError> {
    let path = tail_path(&req, "/presigned/")?;
    let ArtifactKind::File(entry) = artifacts.kind(&path).await? else {
        return Err(ApiError::not_found(format!("No such artifact: '{path}'")).into());
    };
    let raw = req.uri().path();
    let tail = &raw[raw
        .find("/presigned/")
        .map(|i| i + "/presigned/".len())
        .unwrap_or(raw.len())..];
    let url = format!(
        "{}/api/2.0/mlflow-artifacts/artifacts/{tail}",
        base_url(&req)
    );
    Ok(ok_json(vec![
        ("url", json!(url)),
        ("headers", json!({})),
        ("file_size", json!(entry.size)),
    ]))
}
