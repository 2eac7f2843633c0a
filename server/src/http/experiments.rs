//! Experiment endpoints: create, get, get-by-name, search, update, delete, restore, tags.

use super::artifacts::decode_once;
use super::request::FilterParser;
use super::request::Req;
use super::{call, ok_json, page_response, HttpError, Store};
use crate::artifacts::path::{is_lookalike, ArtifactPath};
use crate::store::ExperimentQuery;
use actix_web::{web, HttpRequest, HttpResponse, Scope};
use cairn_schema::filter::{parse_filter, parse_mlflow_filter, Dialect};
use cairn_schema::limits::{
    MAX_EXPERIMENT_NAME_LENGTH, MAX_EXPERIMENT_TAG_VALUE_LENGTH, MAX_KEY_LENGTH, MAX_SEARCH_RESULTS,
};
use cairn_schema::{validate, ApiError, Tag, ViewType};
use serde_json::json;

pub fn routes(scope: Scope) -> Scope {
    scope
        .service(web::resource("/experiments/create").post(create_experiment))
        .service(web::resource("/experiments/get").get(get_experiment))
        .service(web::resource("/experiments/get-by-name").get(get_experiment_by_name))
        .service(
            web::resource("/experiments/search")
                .get(search_experiments)
                .post(search_experiments),
        )
        .service(web::resource("/experiments/update").post(update_experiment))
        .service(web::resource("/experiments/delete").post(delete_experiment))
        .service(web::resource("/experiments/restore").post(restore_experiment))
        .service(web::resource("/experiments/set-experiment-tag").post(set_experiment_tag))
        .service(web::resource("/experiments/delete-experiment-tag").post(delete_experiment_tag))
}

fn experiment_name(req: &Req, field: &str) -> Result<String, HttpError> {
    let name = req.str_req(field)?;
    if name.chars().count() > MAX_EXPERIMENT_NAME_LENGTH {
        return Err(ApiError::invalid(format!(
            "'{field}' exceeds the maximum length of {MAX_EXPERIMENT_NAME_LENGTH} characters"
        ))
        .into());
    }
    if name.chars().any(validate::is_control) {
        return Err(ApiError::invalid(format!(
            "Invalid value {} for parameter '{field}' supplied: names cannot hold control characters.",
            validate::quoted(&name)
        ))
        .into());
    }
    Ok(name)
}

fn experiment_tag(key: String, value: String) -> Result<Tag, HttpError> {
    validate::key("Tag key", &key)?;
    if key.chars().count() > MAX_KEY_LENGTH
        || value.chars().count() > MAX_EXPERIMENT_TAG_VALUE_LENGTH
    {
        return Err(ApiError::invalid(format!(
            "Experiment tag value exceeds the maximum length of {MAX_EXPERIMENT_TAG_VALUE_LENGTH} characters"
        ))
        .into());
    }
    Ok(Tag { key, value })
}

/// Whether `location` is a URI naming a host (`scheme://host/...`): the server's own
/// storage never does, so such a location would send clients elsewhere.
fn names_a_host(location: &str) -> bool {
    let Some((scheme, rest)) = location.split_once("://") else {
        return false;
    };
    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    is_scheme && !rest.starts_with(['/', '?'])
}

/// Whether a location, as written or after any number of percent-decodings, holds a
/// fragment, a `;` parameter, a `%u` escape, a control character, a Unicode lookalike
/// of a path metacharacter, or a segment that walks up (`..`, or only dots and spaces,
/// which Windows trims to `..`) between `/`, `\` or `?`. One that is not UTF-8 once
/// decoded (overlong `%c0%ae`) is refused too.
fn hides_a_walk(location: &str) -> bool {
    let mut text = location.to_owned();
    loop {
        // `%uXXXX`, which IIS-era decoders still read.
        let wide_escape = text.as_bytes().windows(6).any(|w| {
            w[0] == b'%'
                && w[1].eq_ignore_ascii_case(&b'u')
                && w[2..].iter().all(u8::is_ascii_hexdigit)
        });
        let bad = wide_escape
            || text.contains(['#', ';'])
            || text
                .chars()
                .any(|c| validate::is_control(c) || is_lookalike(c))
            || text
                .split(['/', '\\', '?'])
                .any(|seg| seg.contains("..") && seg.chars().all(|c| c == '.' || c == ' '));
        if bad {
            return true;
        }
        // Each round shortens the text, so this ends.
        match decode_once(&text) {
            Ok(next) if next == text => return false,
            Ok(next) => text = next,
            Err(_) => return true,
        }
    }
}

/// Refuses artifact locations the server must never hand out or follow.
fn artifact_location(location: &str) -> Result<(), HttpError> {
    // A location on this server's own store must be a path it can serve.
    let unservable = crate::store::served_artifact_root(location)
        .is_some_and(|root| ArtifactPath::parse_dir(root).is_err());
    let bad = location.len() > 2048
        || names_a_host(location)
        || location.starts_with("runs:")
        || unservable
        || hides_a_walk(location);
    if bad {
        return Err(ApiError::invalid(format!(
            "Invalid value {} for parameter 'artifact_location' supplied.",
            validate::quoted(location)
        ))
        .into());
    }
    Ok(())
}

fn experiment_id(req: &Req) -> Result<i64, HttpError> {
    Ok(validate::experiment_id(&req.str_req("experiment_id")?)?)
}

async fn create_experiment(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let name = experiment_name(&req, "name")?;
    let location = req.str_opt("artifact_location")?.filter(|l| !l.is_empty());
    if let Some(l) = &location {
        artifact_location(l)?;
    }
    let tags = req
        .tags("tags")?
        .into_iter()
        .map(|t| experiment_tag(t.key, t.value))
        .collect::<Result<Vec<_>, _>>()?;
    let id = call(&store, move |s| {
        s.create_experiment(&name, location.as_deref(), &tags)
    })
    .await?;
    Ok(ok_json(vec![("experiment_id", json!(id.to_string()))]))
}

async fn get_experiment(http: HttpRequest, store: Store) -> Result<HttpResponse, HttpError> {
    let id = experiment_id(&Req::read(&http, &[])?)?;
    let exp = call(&store, move |s| s.get_experiment(id)).await?;
    Ok(ok_json(vec![("experiment", json!(exp))]))
}

async fn get_experiment_by_name(
    http: HttpRequest,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    let name = Req::read(&http, &[])?.str_req("experiment_name")?;
    let exp = call(&store, move |s| s.get_experiment_by_name(&name)).await?;
    Ok(ok_json(vec![("experiment", json!(exp))]))
}

/// Reads `view_type`/`run_view_type` by name or number; an unknown value is a 400.
pub(super) fn view_type(req: &Req, field: &str) -> Result<ViewType, HttpError> {
    match req.enum_opt(field)? {
        None => Ok(ViewType::ActiveOnly),
        Some(v) => ViewType::parse(&v).ok_or_else(|| {
            ApiError::invalid(format!(
                "Invalid value {} for parameter '{field}' supplied.",
                validate::quoted(&v)
            ))
            .into()
        }),
    }
}

async fn search_experiments(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    search(http, body, store, parse_mlflow_filter).await
}

/// experiments/search with Cairn's extended grammar.
pub(super) async fn search_experiments_extended(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    search(http, body, store, parse_filter).await
}

async fn search(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
    parse: FilterParser,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    // MLflow has no default page size here: an absent max_results is 0, a 400.
    let params = req.search_params(Dialect::Experiments, parse, 0, MAX_SEARCH_RESULTS)?;
    let query = ExperimentQuery {
        filter: params.filter,
        order_by: params.order_by,
        view: view_type(&req, "view_type")?,
        max_results: params.max_results,
        offset: params.offset,
    };
    let page = call(&store, move |s| s.search_experiments(&query)).await?;
    Ok(page_response("experiments", page))
}

async fn update_experiment(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let id = experiment_id(&req)?;
    let name = experiment_name(&req, "new_name")?;
    call(&store, move |s| s.rename_experiment(id, &name)).await?;
    Ok(ok_json(vec![]))
}

async fn delete_experiment(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    let id = experiment_id(&Req::read(&http, &body)?)?;
    call(&store, move |s| s.delete_experiment(id)).await?;
    Ok(ok_json(vec![]))
}

async fn restore_experiment(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    let id = experiment_id(&Req::read(&http, &body)?)?;
    call(&store, move |s| s.restore_experiment(id)).await?;
    Ok(ok_json(vec![]))
}

async fn set_experiment_tag(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let id = experiment_id(&req)?;
    let tag = experiment_tag(
        req.str_req("key")?,
        req.str_opt("value")?.unwrap_or_default(),
    )?;
    call(&store, move |s| s.set_experiment_tag(id, &tag)).await?;
    Ok(ok_json(vec![]))
}

async fn delete_experiment_tag(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let id = experiment_id(&req)?;
    let key = req.str_req("key")?;
    call(&store, move |s| s.delete_experiment_tag(id, &key)).await?;
    Ok(ok_json(vec![]))
}
