//! Artifact endpoints: MLflow's proxy (upload, download with ranges, list, delete), the
//! tracking-side run listing, the shared path and header rules, and every artifact route.

use super::artifact_admin::{
    collect_garbage, download_artifact_version, list_artifact_versions, verify_artifacts,
};
use super::multipart::{
    abort_multipart_upload, complete_multipart_upload, create_multipart_upload, presigned_download,
    upload_part,
};
use super::request::Req;
use super::{call, ok_json, HttpError, Store};
use crate::artifacts::blobs::Digest;
use crate::artifacts::path::ArtifactPath;
use crate::artifacts::Artifacts;
use crate::store::ArtifactKind;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use cairn_schema::error::ErrorBody;
use cairn_schema::{validate, ApiError, ErrorCode};
use futures_util::StreamExt;
use serde_json::{json, Value};

/// The artifact service as handlers receive it.
pub type ArtifactService = web::Data<Artifacts>;

const PROXY: &str = "/mlflow-artifacts/artifacts";

pub fn routes(cfg: &mut web::ServiceConfig) {
    for api in ["/api/2.0", "/ajax-api/2.0"] {
        cfg.service(
            web::scope(&format!("{api}/mlflow-artifacts"))
                .route("/artifacts", web::get().to(list_artifacts))
                .route("/artifacts/{tail:.*}", web::get().to(download_artifact))
                .route("/artifacts/{tail:.*}", web::put().to(upload_artifact))
                .route("/artifacts/{tail:.*}", web::delete().to(delete_artifact))
                .route(
                    "/mpu/create/{tail:.*}",
                    web::post().to(create_multipart_upload),
                )
                .route(
                    "/mpu/complete/{tail:.*}",
                    web::post().to(complete_multipart_upload),
                )
                .route(
                    "/mpu/abort/{tail:.*}",
                    web::post().to(abort_multipart_upload),
                )
                .route("/mpu/part/{upload_id}/{part}", web::put().to(upload_part))
                .route("/presigned/{tail:.*}", web::get().to(presigned_download)),
        );
        cfg.route(
            &format!("{api}/mlflow/artifacts/list"),
            web::get().to(list_run_artifacts),
        );
    }
    cfg.service(
        web::scope("/api/2.0/cairn/artifacts")
            .route("/versions", web::get().to(list_artifact_versions))
            .route("/version", web::get().to(download_artifact_version))
            .route("/verify", web::post().to(verify_artifacts)),
    );
    cfg.route("/api/2.0/cairn/gc", web::post().to(collect_garbage));
}

/// Percent-decodes a URL path exactly once (`+` stays `+`); invalid UTF-8 is refused.
pub(super) fn decode_once(raw: &str) -> Result<String, HttpError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(&[h, l]) = bytes.get(i + 1..i + 3) {
                if let (Some(h), Some(l)) = ((h as char).to_digit(16), (l as char).to_digit(16)) {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ApiError::invalid("Invalid path").into())
}

/// The `path` query parameter, decoded once like a URL path (`+` is a space): bytes that
/// are not UTF-8 are refused, not replaced, so two different paths never read as one.
fn query_path(req: &HttpRequest) -> Result<Option<String>, HttpError> {
    let mut found = None;
    for pair in req.query_string().split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key != "path" {
            continue;
        }
        if found.is_some() {
            return Err(ApiError::invalid("Invalid path: 'path' is given more than once").into());
        }
        found = Some(decode_once(&value.replace('+', " "))?);
    }
    Ok(found)
}

pub(super) fn required_query_path(req: &HttpRequest) -> Result<String, HttpError> {
    match query_path(req)? {
        Some(p) if !p.is_empty() => Ok(p),
        _ => Err(ApiError::missing("path").into()),
    }
}

pub(super) fn invalid_path(e: crate::artifacts::path::InvalidPath) -> HttpError {
    tracing::debug!(reason = e.reason, "artifact path refused");
    ApiError::invalid("Invalid path").into()
}

/// The artifact path after `marker` in the raw request path, decoded once and validated.
pub(super) fn tail_path(req: &HttpRequest, marker: &str) -> Result<ArtifactPath, HttpError> {
    let raw = req.uri().path();
    let at = raw
        .find(marker)
        .ok_or_else(|| ApiError::invalid("Invalid path"))?;
    ArtifactPath::parse(&decode_once(&raw[at + marker.len()..])?).map_err(invalid_path)
}

pub(super) fn file_name(path: &ArtifactPath) -> &str {
    path.file_name().unwrap_or("artifact")
}

/// MLflow's content types: text for text-like files, bytes for the rest.
fn content_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let text = matches!(
        ext.as_str(),
        "txt"
            | "log"
            | "json"
            | "yaml"
            | "yml"
            | "csv"
            | "tsv"
            | "md"
            | "py"
            | "jsonl"
            | "toml"
            | "ini"
            | "cfg"
            | "html"
            | "xml"
    ) || name == "MLmodel"
        || name == "requirements.txt";
    if text {
        "text/plain"
    } else {
        "application/octet-stream"
    }
}

/// `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266).
fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// The digest an upload says it carries: `X-Cairn-Sha256: <hex>` or
/// `Content-Digest: sha-256=:<base64>:` (RFC 9530).
fn expected_digest(req: &HttpRequest) -> Result<Option<Digest>, HttpError> {
    if let Some(v) = req.headers().get("x-cairn-sha256") {
        return v
            .to_str()
            .ok()
            .and_then(|s| Digest::parse(s.trim()))
            .map(Some)
            .ok_or_else(|| ApiError::invalid("X-Cairn-Sha256 must be 64 hex characters").into());
    }
    if let Some(v) = req
        .headers()
        .get("content-digest")
        .and_then(|v| v.to_str().ok())
    {
        for item in v.split(',') {
            if let Some(b64) = item
                .trim()
                .strip_prefix("sha-256=:")
                .and_then(|s| s.strip_suffix(':'))
            {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|_| ApiError::invalid("Content-Digest sha-256 is not base64"))?;
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                return Digest::parse(&hex).map(Some).ok_or_else(|| {
                    ApiError::invalid("Content-Digest sha-256 has the wrong length").into()
                });
            }
        }
    }
    Ok(None)
}

/// A single `bytes=` range within `size`: `Ok(None)` for none, `Err(())` when unsatisfiable.
fn byte_range(req: &HttpRequest, size: u64) -> Result<Option<std::ops::Range<u64>>, ()> {
    let Some(spec) = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let Some(spec) = spec.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None); // multiple ranges: serve the whole file, as RFC 9110 allows
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let range = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().map_err(|_| ())?;
            size.saturating_sub(n)..size
        }
        (a, "") => a.parse::<u64>().map_err(|_| ())?..size,
        (a, b) => {
            a.parse::<u64>().map_err(|_| ())?
                ..b.parse::<u64>()
                    .map_err(|_| ())?
                    .saturating_add(1)
                    .min(size)
        }
    };
    if range.start >= size || range.start >= range.end {
        return Err(());
    }
    Ok(Some(range))
}

pub(super) async fn serve(
    req: &HttpRequest,
    artifacts: &Artifacts,
    path: &ArtifactPath,
    digest: Option<&str>,
) -> Result<HttpResponse, HttpError> {
    let entry = match digest {
        Some(d) => artifacts
            .versions(path)
            .await?
            .into_iter()
            .find(|v| v.digest == d),
        None => match artifacts.kind(path).await? {
            ArtifactKind::File(e) => Some(e),
            ArtifactKind::Dir => {
                return Err(ApiError::invalid(format!(
                    "Artifact path refers to a directory, not a file: '{path}'"
                ))
                .into())
            }
            ArtifactKind::Missing => None,
        },
    };
    let entry = entry.ok_or_else(|| ApiError::not_found(format!("No such artifact: '{path}'")))?;
    let size = entry.size as u64;
    let range = match byte_range(req, size) {
        Ok(r) => r,
        Err(()) => {
            // A JSON envelope, so that the error middleware keeps the Content-Range.
            return Ok(HttpResponse::RangeNotSatisfiable()
                .insert_header((header::CONTENT_RANGE, format!("bytes */{size}")))
                .json(ErrorBody {
                    error_code: ErrorCode::InvalidParameterValue.as_str().into(),
                    message: format!("Range not satisfiable: the file has {size} bytes"),
                }));
        }
    };
    // The version looked up above, by digest: its size is what the range was cut to,
    // even if the path is overwritten meanwhile.
    let download = artifacts
        .get_version(path, &entry.digest, range.clone())
        .await?;
    let name = file_name(path);
    let mut resp = match &range {
        Some(r) => {
            let mut b = HttpResponse::PartialContent();
            b.insert_header((
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{size}", r.start, r.end - 1),
            ));
            b
        }
        None => HttpResponse::Ok(),
    };
    let length = range.as_ref().map(|r| r.end - r.start).unwrap_or(size);
    resp.insert_header((header::CONTENT_TYPE, content_type(name)))
        .insert_header((header::CONTENT_DISPOSITION, disposition(name)))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((header::ETAG, format!("\"{}\"", download.entry.digest)))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .no_chunking(length);
    Ok(resp.streaming(
        download
            .body
            .map(|r| r.map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()))),
    ))
}

async fn download_artifact(
    req: HttpRequest,
    artifacts: ArtifactService,
) -> Result<HttpResponse, HttpError> {
    let path = tail_path(&req, &format!("{PROXY}/"))?;
    serve(&req, &artifacts, &path, None).await
}

async fn upload_artifact(
    req: HttpRequest,
    body: web::Payload,
    artifacts: ArtifactService,
) -> Result<HttpResponse, HttpError> {
    let path = tail_path(&req, &format!("{PROXY}/"))?;
    let expected = expected_digest(&req)?;
    let digest = artifacts.put(&path, body, expected).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{digest}\"")))
        .finish())
}

async fn delete_artifact(
    req: HttpRequest,
    artifacts: ArtifactService,
) -> Result<HttpResponse, HttpError> {
    let path = tail_path(&req, &format!("{PROXY}/"))?;
    if path.is_root() {
        return Err(ApiError::invalid("Refusing to delete the artifact root").into());
    }
    artifacts.delete(&path).await?;
    Ok(ok_json(vec![]))
}

pub(super) fn file_infos(children: Vec<crate::store::ArtifactChild>, prefix: &str) -> Value {
    Value::Array(
        children
            .into_iter()
            .map(|c| {
                let path = if prefix.is_empty() {
                    c.name
                } else {
                    format!("{prefix}/{}", c.name)
                };
                match c.size {
                    Some(size) if !c.is_dir => {
                        json!({"path": path, "is_dir": false, "file_size": size})
                    }
                    _ => json!({"path": path, "is_dir": true}),
                }
            })
            .collect(),
    )
}

async fn list_artifacts(
    req: HttpRequest,
    artifacts: ArtifactService,
) -> Result<HttpResponse, HttpError> {
    let dir =
        ArtifactPath::parse_dir(&query_path(&req)?.unwrap_or_default()).map_err(invalid_path)?;
    let children = artifacts.list(&dir).await?;
    Ok(ok_json(vec![("files", file_infos(children, ""))]))
}

async fn list_run_artifacts(
    req: HttpRequest,
    store: Store,
    artifacts: ArtifactService,
) -> Result<HttpResponse, HttpError> {
    let query = Req::read(&req, &[])?;
    let run_id = query.str_req_any(&["run_id", "run_uuid"])?;
    validate::run_id(&run_id)?;
    let sub =
        ArtifactPath::parse_dir(&query_path(&req)?.unwrap_or_default()).map_err(invalid_path)?;
    let run = call(&store, move |s| s.get_run(&run_id)).await?;
    let root_uri = run.info.artifact_uri.clone();
    let Some(root) = crate::store::served_artifact_root(&root_uri) else {
        return Ok(ok_json(vec![("root_uri", json!(root_uri))]));
    };
    let root = ArtifactPath::parse(root).map_err(invalid_path)?;
    let children = artifacts.list(&root.join(&sub)).await?;
    Ok(ok_json(vec![
        ("root_uri", json!(root_uri)),
        ("files", file_infos(children, sub.as_str())),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_happens_exactly_once() {
        assert_eq!(decode_once("a%20b/%252e%252e").unwrap(), "a b/%2e%2e");
        assert_eq!(decode_once("a+b%zz").unwrap(), "a+b%zz");
        assert!(decode_once("%ff%fe").is_err());
    }

    #[test]
    fn dispositions_never_carry_raw_quotes_or_control_characters() {
        let d = disposition("we\"ird\nname.txt");
        assert!(!d[..d.find("filename*").unwrap()].contains('\n'));
        assert!(d.starts_with("attachment; filename=\"we_ird_name.txt\""));
    }
}
