//! Logged-model endpoints (MLflow 3): create, get, finalize, delete, tags, params, artifact listing, search.

use super::artifacts::{decode_once, file_infos, invalid_path, ArtifactService};
use super::request::Req;
use super::{call, ok_json, page_response, HttpError};
use crate::artifacts::path::ArtifactPath;
use crate::store::{
    DatasetRef, LoggedModelOrder, LoggedModelQuery, LoggedModelSortKey, LoggedModelStore,
    NewLoggedModel,
};
use actix_web::{web, HttpRequest, HttpResponse, Scope};
use cairn_schema::filter::{parse_mlflow_filter, parse_order_by, Dialect, Entity};
use cairn_schema::{validate, ApiError, LoggedModelStatus, Param, Tag};
use serde_json::json;

/// The logged-model store as handlers receive it.
pub type LoggedModels = web::Data<dyn LoggedModelStore>;

/// Characters a logged model's name must not hold.
const NAME_FORBIDDEN: [char; 6] = ['/', ':', '.', '%', '"', '\''];

pub fn routes(scope: Scope) -> Scope {
    scope
        .service(web::resource("/logged-models").post(create_logged_model))
        // Before `{model_id}`, so that `search` is never read as an id.
        .service(web::resource("/logged-models/search").post(search_logged_models))
        .service(
            web::resource("/logged-models/{model_id}")
                .get(get_logged_model)
                .patch(finalize_logged_model)
                .delete(delete_logged_model),
        )
        .service(web::resource("/logged-models/{model_id}/tags").patch(set_logged_model_tags))
        .service(
            web::resource("/logged-models/{model_id}/tags/{tag_key:.*}")
                .delete(delete_logged_model_tag),
        )
        .service(web::resource("/logged-models/{model_id}/params").post(log_logged_model_params))
        .service(
            web::resource("/logged-models/{model_id}/artifacts/directories")
                .get(list_logged_model_artifacts),
        )
}

fn check_name(name: &str) -> Result<(), HttpError> {
    if name.is_empty() || name.contains(NAME_FORBIDDEN) || name.chars().any(validate::is_control) {
        return Err(ApiError::invalid(format!(
            "Invalid model name ({}) provided. Model name must be a non-empty string and cannot contain the following characters: ('/', ':', '.', '%', '\"', \"'\") or control characters",
            validate::quoted(name)
        ))
        .into());
    }
    Ok(())
}

fn tags(req: &Req) -> Result<Vec<Tag>, HttpError> {
    let tags = req.tags("tags")?;
    for t in &tags {
        validate::key("Tag key", &t.key)?;
    }
    Ok(tags)
}

fn params(req: &Req) -> Result<Vec<Param>, HttpError> {
    req.objects("params")?
        .iter()
        .map(|p| {
            let key = p.str_req("key")?;
            validate::key("Param key", &key)?;
            Ok(Param {
                key,
                value: p.str_opt("value")?.unwrap_or_default(),
            })
        })
        .collect()
}

async fn create_logged_model(
    http: HttpRequest,
    body: web::Bytes,
    models: LoggedModels,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let experiment_id = validate::experiment_id(&req.str_req("experiment_id")?)?;
    let name = req.str_opt("name")?;
    if let Some(name) = &name {
        check_name(name)?;
    }
    let source_run_id = req.str_opt("source_run_id")?.unwrap_or_default();
    if !source_run_id.is_empty() {
        validate::run_id(&source_run_id)?;
    }
    let new = NewLoggedModel {
        experiment_id,
        name,
        model_type: req.str_opt("model_type")?.unwrap_or_default(),
        source_run_id,
        params: params(&req)?,
        tags: tags(&req)?,
    };
    let model = call(&models, move |s| s.create_logged_model(new)).await?;
    Ok(ok_json(vec![("model", json!(model))]))
}

async fn get_logged_model(
    http: HttpRequest,
    path: web::Path<String>,
    models: LoggedModels,
) -> Result<HttpResponse, HttpError> {
    let allow_deleted = Req::read(&http, &[])?
        .bool_opt("allow_deleted")?
        .unwrap_or(false);
    let id = path.into_inner();
    let model = call(&models, move |s| s.get_logged_model(&id, allow_deleted)).await?;
    Ok(ok_json(vec![("model", json!(model))]))
}

async fn finalize_logged_model(
    http: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    models: LoggedModels,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let text = req
        .enum_opt("status")?
        .ok_or_else(|| ApiError::missing("status"))?;
    let status = LoggedModelStatus::parse(&text).ok_or_else(|| {
        ApiError::invalid(format!(
            "Invalid value {} for parameter 'status' supplied.",
            validate::quoted(&text)
        ))
    })?;
    let id = path.into_inner();
    let model = call(&models, move |s| s.finalize_logged_model(&id, status)).await?;
    Ok(ok_json(vec![("model", json!(model))]))
}

async fn delete_logged_model(
    path: web::Path<String>,
    models: LoggedModels,
) -> Result<HttpResponse, HttpError> {
    let id = path.into_inner();
    call(&models, move |s| s.delete_logged_model(&id)).await?;
    Ok(ok_json(vec![]))
}

async fn set_logged_model_tags(
    http: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    models: LoggedModels,
) -> Result<HttpResponse, HttpError> {
    let tags = tags(&Req::read(&http, &body)?)?;
    let id = path.into_inner();
    call(&models, move |s| s.set_logged_model_tags(&id, tags)).await?;
    Ok(ok_json(vec![]))
}

/// The tag key is read off the raw path and decoded once, so that a key holding `/`
/// or `%` arrives whole whether or not the client encoded it.
async fn delete_logged_model_tag(
    http: HttpRequest,
    path: web::Path<(String, String)>,
    models: LoggedModels,
) -> Result<HttpResponse, HttpError> {
    let (id, _) = path.into_inner();
    // The id is one segment, so the first `/tags/` ends it.
    let raw = http.uri().path();
    let key = decode_once(raw.split_once("/tags/").map_or("", |(_, k)| k))?;
    call(&models, move |s| s.delete_logged_model_tag(&id, &key)).await?;
    Ok(ok_json(vec![]))
}

async fn log_logged_model_params(
    http: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    models: LoggedModels,
) -> Result<HttpResponse, HttpError> {
    let params = params(&Req::read(&http, &body)?)?;
    let id = path.into_inner();
    call(&models, move |s| s.log_logged_model_params(&id, params)).await?;
    Ok(ok_json(vec![]))
}

/// Lists one directory of a model's artifacts, as artifacts/list does for runs.
async fn list_logged_model_artifacts(
    http: HttpRequest,
    path: web::Path<String>,
    models: LoggedModels,
    artifacts: ArtifactService,
) -> Result<HttpResponse, HttpError> {
    let dir = Req::read(&http, &[])?
        .str_opt("artifact_directory_path")?
        .unwrap_or_default();
    let sub = ArtifactPath::parse_dir(&dir).map_err(invalid_path)?;
    let id = path.into_inner();
    let model = call(&models, move |s| s.get_logged_model(&id, false)).await?;
    let root_uri = model.info.artifact_uri;
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

/// A dataset named `name`, with the object's `dataset_digest` when it has one.
fn dataset(req: &Req, name: String) -> Result<DatasetRef, HttpError> {
    Ok(DatasetRef {
        name,
        digest: req.str_opt("dataset_digest")?.filter(|d| !d.is_empty()),
    })
}

/// An order_by object: `field_name` is `metrics.<key>` or an attribute of the
/// logged-model grammar (`creation_time` and its other spellings included).
fn order_key(req: &Req) -> Result<LoggedModelOrder, HttpError> {
    let field = req.str_req("field_name")?;
    let ascending = req.bool_opt("ascending")?.unwrap_or(true);
    let key = match field.strip_prefix("metrics.") {
        Some(metric) => {
            let metric = metric
                .strip_prefix('`')
                .and_then(|m| m.strip_suffix('`'))
                .unwrap_or(metric);
            if metric.is_empty() {
                return Err(ApiError::invalid("Invalid order_by field 'metrics.'").into());
            }
            // A key no metric could have (`m` DESC --) is a mistake, not a sort.
            validate::key("Metric name", metric)?;
            LoggedModelSortKey::Metric {
                key: metric.to_owned(),
                dataset: match req.str_opt("dataset_name")?.filter(|n| !n.is_empty()) {
                    Some(name) => Some(dataset(req, name)?),
                    None => None,
                },
            }
        }
        None => {
            // Backticks make the whole text one key, so a direction word is not read.
            let parsed = parse_order_by(Dialect::LoggedModels, &format!("`{field}`"))
                .map_err(|e| ApiError::invalid(e.0))?;
            if parsed.entity != Entity::Attribute {
                return Err(ApiError::invalid(format!(
                    "Invalid order_by field {}",
                    validate::quoted(&field)
                ))
                .into());
            }
            LoggedModelSortKey::Attribute(parsed.key)
        }
    };
    Ok(LoggedModelOrder { key, ascending })
}

async fn search_logged_models(
    http: HttpRequest,
    body: web::Bytes,
    models: LoggedModels,
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
    let datasets = req
        .objects("datasets")?
        .iter()
        .map(|d| dataset(d, d.str_req("dataset_name")?))
        .collect::<Result<Vec<_>, _>>()?;
    let order_by = req
        .objects("order_by")?
        .iter()
        .map(order_key)
        .collect::<Result<Vec<_>, _>>()?;
    let max_results = req.i64_opt("max_results")?.unwrap_or(50);
    if max_results < 1 {
        return Err(ApiError::invalid("max_results must be a positive integer.").into());
    }
    let query = LoggedModelQuery {
        experiment_ids,
        filter,
        datasets,
        order_by,
        max_results,
        offset: req.page_offset()?,
    };
    let page = call(&models, move |s| s.search_logged_models(&query)).await?;
    Ok(page_response("models", page))
}
