//! Registered-model endpoints: create, get, update, rename, delete, tags, search,
//! latest versions, aliases.

use super::gates::{self, Promotions};
use super::request::Req;
use super::{call, ok_json, page_response, HttpError, Store};
use crate::store::{RegistryQuery, RegistryStore};
use actix_web::{web, HttpRequest, HttpResponse, Scope};
use cairn_schema::filter::{parse_mlflow_filter, Dialect};
use cairn_schema::registry::canonical_stage;
use cairn_schema::{validate, ApiError, Tag};
use serde_json::json;

/// The registry store as handlers receive it.
pub type Registry = web::Data<dyn RegistryStore>;

/// Longest registry tag value.
const MAX_REGISTRY_TAG_VALUE: usize = 100_000;

pub fn routes(scope: Scope) -> Scope {
    scope
        .service(web::resource("/registered-models/create").post(create_registered_model))
        .service(web::resource("/registered-models/get").get(get_registered_model))
        .service(web::resource("/registered-models/update").patch(update_registered_model))
        .service(web::resource("/registered-models/rename").post(rename_registered_model))
        .service(web::resource("/registered-models/delete").delete(delete_registered_model))
        .service(web::resource("/registered-models/set-tag").post(set_registered_model_tag))
        .service(web::resource("/registered-models/delete-tag").delete(delete_registered_model_tag))
        .service(web::resource("/registered-models/search").get(search_registered_models))
        .service(
            web::resource("/registered-models/get-latest-versions")
                .get(get_latest_versions)
                .post(get_latest_versions),
        )
        .service(
            web::resource("/registered-models/alias")
                .post(set_alias)
                .delete(delete_alias)
                .get(get_by_alias),
        )
}

/// A registered model's name: non-empty, without `/` or `:`.
pub(super) fn model_name(req: &Req, field: &str) -> Result<String, HttpError> {
    let name = req.str_req(field)?;
    if name.contains('/')
        || name.contains(':')
        || name.trim() != name
        || name.chars().any(validate::is_control)
    {
        return Err(ApiError::invalid(format!(
            "Invalid model name {}. Names cannot contain '/' or ':'.",
            validate::quoted(&name)
        ))
        .into());
    }
    Ok(name)
}

/// A registry tag: key rules as for runs, value up to 100,000 characters.
pub(super) fn registry_tag(key: String, value: String) -> Result<Tag, HttpError> {
    validate::key("Tag key", &key)?;
    if value.chars().count() > MAX_REGISTRY_TAG_VALUE {
        return Err(ApiError::invalid(format!(
            "Tag value exceeds the maximum length of {MAX_REGISTRY_TAG_VALUE} characters"
        ))
        .into());
    }
    Ok(Tag { key, value })
}

pub(super) fn tags(req: &Req) -> Result<Vec<Tag>, HttpError> {
    req.tags("tags")?
        .into_iter()
        .map(|t| registry_tag(t.key, t.value))
        .collect()
}

/// A version number: an integer string.
pub(super) fn version(req: &Req) -> Result<i64, HttpError> {
    let v = req.str_req("version")?;
    v.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            ApiError::invalid(format!(
                "Parameter 'version' must be an integer, got {}.",
                validate::quoted(&v)
            ))
            .into()
        })
}

/// Builds a search query from `filter`, `order_by`, `max_results` (default, cap) and `page_token`.
pub(super) fn registry_query(
    req: &Req,
    dialect: Dialect,
    default: i64,
    cap: i64,
) -> Result<RegistryQuery, HttpError> {
    let params = req.search_params(dialect, parse_mlflow_filter, default, cap)?;
    Ok(RegistryQuery {
        filter: params.filter,
        order_by: params.order_by,
        max_results: params.max_results,
        offset: params.offset,
    })
}

async fn create_registered_model(
    http: HttpRequest,
    body: web::Bytes,
    registry: Registry,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let name = model_name(&req, "name")?;
    let tags = tags(&req)?;
    let description = req.str_opt("description")?;
    let model = call(&registry, move |r| {
        r.create_registered_model(&name, &tags, description.as_deref())
    })
    .await?;
    Ok(ok_json(vec![("registered_model", json!(model))]))
}

async fn get_registered_model(
    http: HttpRequest,
    registry: Registry,
) -> Result<HttpResponse, HttpError> {
    let name = Req::read(&http, &[])?.str_req("name")?;
    let model = call(&registry, move |r| r.get_registered_model(&name)).await?;
    Ok(ok_json(vec![("registered_model", json!(model))]))
}

async fn update_registered_model(
    http: HttpRequest,
    body: web::Bytes,
    registry: Registry,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let name = req.str_req("name")?;
    let description = req.str_opt("description")?.unwrap_or_default();
    let model = call(&registry, move |r| {
        r.update_registered_model(&name, &description)
    })
    .await?;
    Ok(ok_json(vec![("registered_model", json!(model))]))
}

async fn rename_registered_model(
    http: HttpRequest,
    body: web::Bytes,
    registry: Registry,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let name = req.str_req("name")?;
    let new_name = model_name(&req, "new_name")?;
    let model = call(&registry, move |r| {
        r.rename_registered_model(&name, &new_name)
    })
    .await?;
    Ok(ok_json(vec![("registered_model", json!(model))]))
}

async fn delete_registered_model(
    http: HttpRequest,
    body: web::Bytes,
    registry: Registry,
) -> Result<HttpResponse, HttpError> {
    let name = Req::read(&http, &body)?.str_req("name")?;
    call(&registry, move |r| r.delete_registered_model(&name)).await?;
    Ok(ok_json(vec![]))
}

async fn set_registered_model_tag(
    http: HttpRequest,
    body: web::Bytes,
    registry: Registry,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let name = req.str_req("name")?;
    let tag = registry_tag(
        req.str_req("key")?,
        req.str_opt("value")?.unwrap_or_default(),
    )?;
    call(&registry, move |r| r.set_registered_model_tag(&name, &tag)).await?;
    Ok(ok_json(vec![]))
}

async fn delete_registered_model_tag(
    http: HttpRequest,
    body: web::Bytes,
    registry: Registry,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let (name, key) = (req.str_req("name")?, req.str_req("key")?);
    // As MLflow's store: a key that could never be set is a 400, not a quiet no-op.
    validate::key("Tag key", &key)?;
    call(&registry, move |r| {
        r.delete_registered_model_tag(&name, &key)
    })
    .await?;
    Ok(ok_json(vec![]))
}

async fn search_registered_models(
    http: HttpRequest,
    registry: Registry,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &[])?;
    let query = registry_query(&req, Dialect::RegisteredModels, 100, 1000)?;
    let page = call(&registry, move |r| r.search_registered_models(&query)).await?;
    Ok(page_response("registered_models", page))
}

/// Canonical stage names, or MLflow's 400 for an unknown one.
pub(super) fn stage(raw: &str) -> Result<&'static str, HttpError> {
    canonical_stage(raw).ok_or_else(|| {
        ApiError::invalid(format!(
            "Invalid Model Version stage: {}. Value must be one of None, Staging, Production, Archived.",
            raw.chars().take(100).collect::<String>()
        ))
        .into()
    })
}

async fn get_latest_versions(
    http: HttpRequest,
    body: web::Bytes,
    registry: Registry,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let name = req.str_req("name")?;
    let stages = req
        .str_list("stages")?
        .iter()
        .map(|s| stage(s).map(str::to_owned))
        .collect::<Result<Vec<_>, _>>()?;
    let versions = call(&registry, move |r| r.latest_versions(&name, &stages)).await?;
    Ok(ok_json(vec![("model_versions", json!(versions))]))
}

/// Alias names: `[\w-]+`, at most 255 characters, not `latest` or `v<digits>`.
fn alias_name(req: &Req) -> Result<String, HttpError> {
    let alias = req.str_req("alias")?;
    if alias.eq_ignore_ascii_case("latest") {
        return Err(
            ApiError::invalid("'latest' alias name (case insensitive) is reserved.").into(),
        );
    }
    let version_like = alias.len() > 1
        && alias.as_bytes()[0].eq_ignore_ascii_case(&b'v')
        && alias[1..].bytes().all(|b| b.is_ascii_digit());
    if version_like {
        return Err(ApiError::invalid(format!(
            "Version alias name '{alias}' is reserved (v<number> names a version)."
        ))
        .into());
    }
    if alias.chars().count() > 255
        || !alias
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    {
        return Err(ApiError::invalid(format!(
            "Invalid alias name: {}. Names may only contain alphanumerics, underscores (_), and dashes (-).",
            validate::quoted(&alias)
        ))
        .into());
    }
    Ok(alias)
}

async fn set_alias(
    http: HttpRequest,
    body: web::Bytes,
    registry: Registry,
    store: Store,
    promotions: Promotions,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let name = req.str_req("name")?;
    let alias = alias_name(&req)?;
    let version = version(&req)?;
    let (run_id, _) = gates::version_facts(&registry, &name, version).await?;
    let target = format!("alias:{alias}");
    let run = gates::enforce(&promotions, &store, &name, version, &run_id, &target).await?;
    let previous = current_alias_target(&registry, &name, &alias).await;
    let (n, a) = (name.clone(), alias.clone());
    call(&registry, move |r| r.set_alias(&n, &a, version)).await?;
    let to = Some(version.to_string());
    gates::record(
        &promotions,
        &http,
        &name,
        "alias",
        Some(&alias),
        Some(version),
        previous,
        to,
        run.as_ref(),
    )
    .await?;
    Ok(ok_json(vec![]))
}

/// The version an alias points at now, if it exists.
async fn current_alias_target(registry: &Registry, name: &str, alias: &str) -> Option<String> {
    let (n, a) = (name.to_owned(), alias.to_owned());
    call(registry, move |r| r.version_by_alias(&n, &a))
        .await
        .ok()
        .map(|v| v.version)
}

async fn delete_alias(
    http: HttpRequest,
    body: web::Bytes,
    registry: Registry,
    promotions: Promotions,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let (name, alias) = (req.str_req("name")?, alias_name(&req)?);
    let previous = current_alias_target(&registry, &name, &alias).await;
    let (n, a) = (name.clone(), alias.clone());
    call(&registry, move |r| r.delete_alias(&n, &a)).await?;
    if previous.is_some() {
        gates::record(
            &promotions,
            &http,
            &name,
            "alias",
            Some(&alias),
            None,
            previous,
            None,
            None,
        )
        .await?;
    }
    Ok(ok_json(vec![]))
}

async fn get_by_alias(http: HttpRequest, registry: Registry) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &[])?;
    let (name, alias) = (req.str_req("name")?, req.str_req("alias")?);
    let version = call(&registry, move |r| r.version_by_alias(&name, &alias)).await?;
    Ok(ok_json(vec![("model_version", json!(version))]))
}
