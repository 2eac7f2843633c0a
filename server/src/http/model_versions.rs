//! Model-version endpoints: create (sources checked, never fetched), get, update,
//! delete, transition-stage, search, tags, download URI.

use super::artifacts::ArtifactService;
use super::gates::{self, Promotions};
use super::logged_models::LoggedModels;
use super::registry::{registry_query, registry_tag, stage, tags, version, Registry};
use super::request::Req;
use super::{call, ok_json, page_response, HttpError, Store};
use crate::artifacts::path::ArtifactPath;
use crate::store::{ArtifactKind, NewModelVersion};
use actix_web::{web, HttpRequest, HttpResponse, Scope};
use cairn_schema::filter::Dialect;
use cairn_schema::registry::PROMPT_TAG;
use cairn_schema::{validate, ApiError, Tag};
use serde_json::json;

pub fn routes(scope: Scope) -> Scope {
    scope
        .service(web::resource("/model-versions/create").post(create_model_version))
        .service(web::resource("/model-versions/get").get(get_model_version))
        .service(web::resource("/model-versions/update").patch(update_model_version))
        .service(web::resource("/model-versions/delete").delete(delete_model_version))
        .service(
            web::resource("/model-versions/transition-stage").post(transition_model_version_stage),
        )
        .service(web::resource("/model-versions/search").get(search_model_versions))
        .service(web::resource("/model-versions/set-tag").post(set_model_version_tag))
        .service(web::resource("/model-versions/delete-tag").delete(delete_model_version_tag))
        .service(
            web::resource("/model-versions/get-download-uri").get(get_model_version_download_uri),
        )
}

fn bad_source(source: &str, why: &str) -> HttpError {
    ApiError::invalid(format!(
        "Invalid model version source: {}. {why}",
        validate::quoted(source)
    ))
    .into()
}

/// Whether the last `mlflow.prompt.is_prompt` tag says `true`.
fn is_prompt(tags: &[Tag]) -> bool {
    tags.iter()
        .rev()
        .find(|t| t.key == PROMPT_TAG)
        .is_some_and(|t| t.value.eq_ignore_ascii_case("true"))
}

/// Checks a version's source without ever opening it: `runs:/<run>/…` of the named run,
/// `models:/…`, or an `mlflow-artifacts:` location inside the named run's artifacts that
/// exists on this server. Anything else (file paths, `file:`, `http(s):`, `//host`, other
/// schemes) is refused, as is any `..`.
async fn check_source(
    source: &str,
    run_id: &str,
    store: &Store,
    artifacts: &ArtifactService,
) -> Result<(), HttpError> {
    let lowered = source.to_ascii_lowercase();
    let traversal = lowered
        .split(['/', '\\'])
        .any(|s| s == ".." || s == "%2e%2e")
        || lowered.contains("%2e%2e")
        || lowered.contains("%2f");
    if traversal || source.chars().any(char::is_control) {
        return Err(bad_source(
            source,
            "Relative path references are not allowed.",
        ));
    }
    if let Some(rest) = source.strip_prefix("runs:/") {
        let (named, path) = rest
            .trim_start_matches('/')
            .split_once('/')
            .unwrap_or((rest.trim_start_matches('/'), ""));
        if run_id.is_empty() || named != run_id {
            return Err(bad_source(
                source,
                "The run_id request parameter must identify the resource that contains the source.",
            ));
        }
        // The rest is a path in the run's artifacts, held to the rule every artifact
        // path is (`..` hidden behind `\`, `;`, `#`, `?`, encodings or lookalikes).
        ArtifactPath::parse_dir(path)
            .map_err(|_| bad_source(source, "The location is not a valid artifact path."))?;
        let id = run_id.to_owned();
        call(store, move |s| s.get_run(&id)).await?;
        return Ok(());
    }
    if source.starts_with("models:/") {
        // Checked, and its run resolved, in `resolve_models_source`.
        return Ok(());
    }
    if let Some(rest) = source.strip_prefix("mlflow-artifacts:/") {
        if run_id.is_empty() {
            return Err(bad_source(
                source,
                "An mlflow-artifacts source needs the run_id of the run that holds it.",
            ));
        }
        validate::run_id(run_id)?;
        let id = run_id.to_owned();
        let run = call(store, move |s| s.get_run(&id)).await?;
        // A run whose artifacts live elsewhere vouches for nothing here: its root must
        // not fall back to the whole store.
        let not_here = || bad_source(source, "The run's artifacts are not on this server.");
        let root = crate::store::served_artifact_root(&run.info.artifact_uri)
            .filter(|root| !root.is_empty())
            .ok_or_else(not_here)?;
        let path = ArtifactPath::parse(rest.trim_start_matches('/'))
            .map_err(|_| bad_source(source, "The location is not a valid artifact path."))?;
        let root = ArtifactPath::parse(root).map_err(|_| not_here())?;
        if !path.starts_with(&root) {
            return Err(bad_source(
                source,
                "The location lies outside the artifacts of the run given by run_id.",
            ));
        }
        if matches!(artifacts.kind(&path).await?, ArtifactKind::Missing) {
            return Err(bad_source(
                source,
                "Nothing is stored at that location on this server.",
            ));
        }
        return Ok(());
    }
    Err(bad_source(
        source,
        "Sources must be runs:/, models:/ or an mlflow-artifacts: location on this server; this server never fetches other URLs.",
    ))
}

/// What a `models:/` source names: a logged model or another registered version.
enum ModelsSource {
    /// `models:/m-<id>`.
    Logged(String),
    /// `models:/<name>/<version>`.
    Version(String, i64),
}

fn models_source(source: &str) -> Result<ModelsSource, HttpError> {
    let rest = source
        .strip_prefix("models:/")
        .unwrap_or_default()
        .trim_end_matches('/');
    if rest.starts_with("m-") && !rest.contains('/') {
        return Ok(ModelsSource::Logged(rest.to_owned()));
    }
    match rest.rsplit_once('/') {
        Some((name, v)) if !name.is_empty() && !name.contains('/') => match v.parse::<i64>() {
            Ok(n) if n > 0 => Ok(ModelsSource::Version(name.to_owned(), n)),
            _ => Err(bad_source(source, "A models:/ source names a logged model (models:/m-<id>) or a version (models:/<name>/<version>).")),
        },
        _ => Err(bad_source(source, "A models:/ source names a logged model (models:/m-<id>) or a version (models:/<name>/<version>).")),
    }
}

/// The run a `models:/` version comes from: the logged model's source run or the copied
/// version's run. A caller's `run_id` may only repeat it, so that a version cannot borrow
/// another run (and pass that run's promotion gates).
async fn resolve_models_source(
    source: &str,
    run_id: &str,
    model_id: &str,
    registry: &Registry,
    logged: &LoggedModels,
) -> Result<String, HttpError> {
    let actual = match models_source(source)? {
        ModelsSource::Logged(id) => {
            if !model_id.is_empty() && model_id != id {
                return Err(bad_source(
                    source,
                    "The model_id request parameter must name the same logged model.",
                ));
            }
            let lookup = id.clone();
            let model = call(logged, move |l| l.get_logged_model(&lookup, false)).await?;
            model.info.source_run_id
        }
        ModelsSource::Version(name, v) => {
            call(registry, move |r| r.get_model_version(&name, v))
                .await?
                .run_id
        }
    };
    if !run_id.is_empty() && run_id != actual {
        return Err(bad_source(
            source,
            "The run_id request parameter must be the run the referenced model came from.",
        ));
    }
    Ok(actual)
}

async fn create_model_version(
    http: HttpRequest,
    body: web::Bytes,
    registry: Registry,
    store: Store,
    artifacts: ArtifactService,
    logged: LoggedModels,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let name = req.str_req("name")?;
    let source = req.str_req("source")?;
    let mut run_id = req.str_opt("run_id")?.unwrap_or_default();
    let tags = tags(&req)?;
    if is_prompt(&tags) {
        if !matches!(source.as_str(), "dummy-source" | "prompt-template") {
            return Err(ApiError::invalid(format!(
                "Invalid prompt source: {}. Prompt sources must use an MLflow placeholder.",
                validate::quoted(&source)
            ))
            .into());
        }
    } else {
        check_source(&source, &run_id, &store, &artifacts).await?;
        if source.starts_with("models:/") {
            let model_id = req.str_opt("model_id")?.unwrap_or_default();
            run_id = resolve_models_source(&source, &run_id, &model_id, &registry, &logged).await?;
        }
    }
    let new = NewModelVersion {
        name,
        source,
        run_id,
        run_link: req.str_opt("run_link")?.unwrap_or_default(),
        description: req.str_opt("description")?.unwrap_or_default(),
        tags,
    };
    let version = call(&registry, move |r| r.create_model_version(new)).await?;
    Ok(ok_json(vec![("model_version", json!(version))]))
}

async fn get_model_version(
    http: HttpRequest,
    registry: Registry,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &[])?;
    let (name, v) = (req.str_req("name")?, version(&req)?);
    let version = call(&registry, move |r| r.get_model_version(&name, v)).await?;
    Ok(ok_json(vec![("model_version", json!(version))]))
}

async fn update_model_version(
    http: HttpRequest,
    body: web::Bytes,
    registry: Registry,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let (name, v) = (req.str_req("name")?, version(&req)?);
    let description = req.str_opt("description")?.unwrap_or_default();
    let version = call(&registry, move |r| {
        r.update_model_version(&name, v, &description)
    })
    .await?;
    Ok(ok_json(vec![("model_version", json!(version))]))
}

async fn delete_model_version(
    http: HttpRequest,
    body: web::Bytes,
    registry: Registry,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let (name, v) = (req.str_req("name")?, version(&req)?);
    call(&registry, move |r| r.delete_model_version(&name, v)).await?;
    Ok(ok_json(vec![]))
}

async fn transition_model_version_stage(
    http: HttpRequest,
    body: web::Bytes,
    registry: Registry,
    store: Store,
    promotions: Promotions,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let (name, v) = (req.str_req("name")?, version(&req)?);
    let target = stage(&req.str_req("stage")?)?;
    let archive = req.bool_opt("archive_existing_versions")?.unwrap_or(false);
    let (run_id, from) = gates::version_facts(&registry, &name, v).await?;
    let run = gates::enforce(
        &promotions,
        &store,
        &name,
        v,
        &run_id,
        &format!("stage:{target}"),
    )
    .await?;
    let n = name.clone();
    let version = call(&registry, move |r| {
        r.transition_stage(&n, v, target, archive)
    })
    .await?;
    gates::record(
        &promotions,
        &http,
        &name,
        "stage",
        None,
        Some(v),
        Some(from),
        Some(target.to_owned()),
        run.as_ref(),
    )
    .await?;
    Ok(ok_json(vec![("model_version", json!(version))]))
}

async fn search_model_versions(
    http: HttpRequest,
    registry: Registry,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &[])?;
    let query = registry_query(&req, Dialect::ModelVersions, 200_000, 200_000)?;
    let page = call(&registry, move |r| r.search_model_versions(&query)).await?;
    Ok(page_response("model_versions", page))
}

async fn set_model_version_tag(
    http: HttpRequest,
    body: web::Bytes,
    registry: Registry,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let (name, v) = (req.str_req("name")?, version(&req)?);
    let tag = registry_tag(
        req.str_req("key")?,
        req.str_opt("value")?.unwrap_or_default(),
    )?;
    call(&registry, move |r| r.set_model_version_tag(&name, v, &tag)).await?;
    Ok(ok_json(vec![]))
}

async fn delete_model_version_tag(
    http: HttpRequest,
    body: web::Bytes,
    registry: Registry,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let (name, v, key) = (req.str_req("name")?, version(&req)?, req.str_req("key")?);
    validate::key("Tag key", &key)?;
    call(&registry, move |r| {
        r.delete_model_version_tag(&name, v, &key)
    })
    .await?;
    Ok(ok_json(vec![]))
}

async fn get_model_version_download_uri(
    http: HttpRequest,
    registry: Registry,
    logged: LoggedModels,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &[])?;
    let (name, v) = (req.str_req("name")?, version(&req)?);
    let mut uri = call(&registry, move |r| r.get_model_version(&name, v))
        .await?
        .source;
    // models:/ sources resolve to where the bytes are (one level; a version copied from
    // a version resolves to that version's own source).
    for _ in 0..4 {
        let target = match uri.starts_with("models:/").then(|| models_source(&uri)) {
            Some(Ok(t)) => t,
            _ => break,
        };
        uri = match target {
            ModelsSource::Logged(id) => {
                call(&logged, move |l| l.get_logged_model(&id, true))
                    .await?
                    .info
                    .artifact_uri
            }
            ModelsSource::Version(n, v) => {
                call(&registry, move |r| r.get_model_version(&n, v))
                    .await?
                    .source
            }
        };
    }
    Ok(ok_json(vec![("artifact_uri", json!(uri))]))
}
