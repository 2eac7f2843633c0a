//! Run endpoints: create, get, update, delete, restore, log-metric, log-parameter, tags,
//! log-batch, log-inputs, outputs, search.

use super::experiments::view_type;
use super::request::{check_content_type, FilterParser, Req};
use super::typed;
use super::{call, ok_json, page_response, HttpError, Store};
use crate::store::{Batch, DatasetRef, ModelMetric, NewRun, RunQuery, RunUpdate};
use actix_web::{web, HttpRequest, HttpResponse, Scope};
use cairn_schema::filter::{parse_filter, parse_mlflow_filter, Dialect};
use cairn_schema::limits::*;
use cairn_schema::{
    validate, ApiError, Dataset, DatasetInput, Metric, ModelOutput, Param, RunStatus, Tag,
};
use serde_json::json;

pub fn routes(scope: Scope) -> Scope {
    scope
        .service(web::resource("/runs/create").post(create_run))
        .service(web::resource("/runs/get").get(get_run))
        .service(web::resource("/runs/update").post(update_run))
        .service(web::resource("/runs/delete").post(delete_run))
        .service(web::resource("/runs/restore").post(restore_run))
        .service(web::resource("/runs/log-metric").post(log_metric))
        .service(web::resource("/runs/log-parameter").post(log_parameter))
        .service(web::resource("/runs/set-tag").post(set_tag))
        .service(web::resource("/runs/delete-tag").post(delete_tag))
        .service(web::resource("/runs/log-batch").post(log_batch))
        .service(web::resource("/runs/log-inputs").post(log_inputs))
        .service(web::resource("/runs/outputs").post(log_outputs))
        .service(web::resource("/runs/search").post(search_runs))
}

/// The run id of a request (`run_id`, or legacy `run_uuid`), shape-checked.
pub(super) fn run_id(req: &Req) -> Result<String, HttpError> {
    let id = req.str_req_any(&["run_id", "run_uuid"])?;
    validate::run_id(&id)?;
    Ok(id)
}

fn metric(req: &Req) -> Result<Metric, HttpError> {
    let key = req.str_req("key")?;
    validate::key("Metric name", &key)?;
    let value = req.f64_req("value")?;
    let timestamp = req.i64_req("timestamp")?;
    if timestamp < 0 {
        return Err(ApiError::invalid(format!(
            "Invalid value {timestamp} for parameter 'timestamp' supplied: metric {} (value={value}). Timestamp must be a nonnegative long (64-bit integer) ",
            validate::quoted(&key)
        ))
        .into());
    }
    let step = req.i64_opt("step")?.unwrap_or(0);
    Ok(Metric {
        key,
        value,
        timestamp,
        step,
        run_id: None,
    })
}

/// The logged model a metric also goes to (`model_id`, with `dataset_name` and
/// `dataset_digest` when given), as `mlflow.log_metric(..., model_id=...)` sends it.
fn model_metric(req: &Req, metric: &Metric) -> Result<Option<ModelMetric>, HttpError> {
    let Some(model_id) = req.str_opt("model_id")?.filter(|m| !m.is_empty()) else {
        return Ok(None);
    };
    let dataset = match req.str_opt("dataset_name")?.filter(|n| !n.is_empty()) {
        Some(name) => Some(DatasetRef {
            name,
            digest: req.str_opt("dataset_digest")?.filter(|d| !d.is_empty()),
        }),
        None => None,
    };
    Ok(Some(ModelMetric {
        model_id,
        dataset,
        metric: metric.clone(),
    }))
}

fn param(req: &Req) -> Result<Param, HttpError> {
    let key = req.str_req("key")?;
    validate::key("Param key", &key)?;
    let value = req.str_opt("value")?.unwrap_or_default();
    Ok(Param {
        key,
        value: validate::truncate(&value, MAX_PARAM_VALUE_LENGTH),
    })
}

fn tag(req: &Req) -> Result<Tag, HttpError> {
    let key = req.str_req("key")?;
    validate::key("Tag key", &key)?;
    let value = req.str_opt("value")?.unwrap_or_default();
    Ok(Tag {
        key,
        value: validate::truncate(&value, MAX_RUN_TAG_VALUE_LENGTH),
    })
}

async fn create_run(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let experiment_id =
        validate::experiment_id(&req.str_opt("experiment_id")?.unwrap_or_else(|| "0".into()))?;
    let tags = req
        .objects("tags")?
        .iter()
        .map(tag)
        .collect::<Result<Vec<_>, _>>()?;
    let run_name = req.str_opt("run_name")?.filter(|n| !n.is_empty());
    if let (Some(name), Some(t)) = (
        &run_name,
        tags.iter().rev().find(|t| t.key == "mlflow.runName"),
    ) {
        if *name != t.value {
            return Err(ApiError::invalid(format!(
                "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name={}, mlflow.runName={}).",
                validate::quoted(name),
                validate::quoted(&t.value)
            ))
            .into());
        }
    }
    let new = NewRun {
        experiment_id,
        user_id: req.str_opt("user_id")?.unwrap_or_default(),
        run_name,
        start_time: req.i64_opt("start_time")?.unwrap_or(0),
        tags,
    };
    let run = call(&store, move |s| s.create_run(new)).await?;
    Ok(ok_json(vec![("run", json!(run))]))
}

async fn get_run(http: HttpRequest, store: Store) -> Result<HttpResponse, HttpError> {
    let id = run_id(&Req::read(&http, &[])?)?;
    let run = call(&store, move |s| s.get_run(&id)).await?;
    Ok(ok_json(vec![("run", json!(run))]))
}

async fn update_run(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let id = run_id(&req)?;
    let status = match req.enum_opt("status")? {
        None => None,
        Some(s) => Some(RunStatus::parse(&s).ok_or_else(|| {
            ApiError::invalid(format!(
                "Invalid value {} for parameter 'status' supplied.",
                validate::quoted(&s)
            ))
        })?),
    };
    let update = RunUpdate {
        status,
        end_time: req.i64_opt("end_time")?,
        run_name: req.str_opt("run_name")?,
    };
    let info = call(&store, move |s| s.update_run(&id, update)).await?;
    Ok(ok_json(vec![("run_info", json!(info))]))
}

async fn delete_run(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    let id = run_id(&Req::read(&http, &body)?)?;
    call(&store, move |s| s.delete_run(&id)).await?;
    Ok(ok_json(vec![]))
}

/// `POST /api/2.0/cairn/runs/move {run_id, experiment_id}` (Cairn only).
pub(super) async fn move_run(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let id = run_id(&req)?;
    let experiment = cairn_schema::validate::experiment_id(&req.str_req("experiment_id")?)?;
    call(&store, move |s| s.move_run(&id, experiment)).await?;
    Ok(ok_json(vec![]))
}

async fn restore_run(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    let id = run_id(&Req::read(&http, &body)?)?;
    call(&store, move |s| s.restore_run(&id)).await?;
    Ok(ok_json(vec![]))
}

async fn apply(store: &Store, id: String, batch: Batch) -> Result<HttpResponse, HttpError> {
    store.log_batch(&id, batch).await?;
    Ok(ok_json(vec![]))
}

async fn log_metric(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    check_content_type(&http)?;
    let (id, batch) = match typed::log_metric(&body) {
        Some((id, point)) => (
            id,
            Batch {
                metrics: vec![point],
                ..Batch::default()
            },
        ),
        None => point_from(&Req::read(&http, &body)?)?,
    };
    apply(&store, id, batch).await
}

/// A log-metric request read through `Req` (see `batch_from`).
pub(super) fn point_from(req: &Req) -> Result<(String, Batch), HttpError> {
    let id = run_id(req)?;
    let point = metric(req)?;
    let batch = Batch {
        model_metrics: model_metric(req, &point)?.into_iter().collect(),
        metrics: vec![point],
        ..Batch::default()
    };
    Ok((id, batch))
}

async fn log_parameter(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let id = run_id(&req)?;
    let batch = Batch {
        params: vec![param(&req)?],
        ..Batch::default()
    };
    apply(&store, id, batch).await
}

async fn set_tag(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let id = run_id(&req)?;
    let batch = Batch {
        tags: vec![tag(&req)?],
        ..Batch::default()
    };
    apply(&store, id, batch).await
}

async fn delete_tag(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let id = run_id(&req)?;
    let key = req.str_req("key")?;
    call(&store, move |s| s.delete_tag(&id, &key)).await?;
    Ok(ok_json(vec![]))
}

fn too_many(n: usize, max: usize, what: &str) -> HttpError {
    ApiError::invalid(format!(
        "A batch logging request can contain at most {max} {what}. Got {n} {what}. Please split up {what} across multiple requests and try again."
    ))
    .into()
}

async fn log_batch(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    check_content_type(&http)?;
    let (id, batch) = match typed::log_batch(&body) {
        Some(read) => read,
        None => batch_from(&Req::read(&http, &body)?)?,
    };
    apply(&store, id, batch).await
}

/// A log-batch request read through `Req`: every shape MLflow accepts, every refusal
/// with MLflow's message.
pub(super) fn batch_from(req: &Req) -> Result<(String, Batch), HttpError> {
    let id = run_id(req)?;
    let (metrics, params, tags) = (
        req.objects("metrics")?,
        req.objects("params")?,
        req.objects("tags")?,
    );
    if metrics.len() > MAX_METRICS_PER_BATCH {
        return Err(too_many(metrics.len(), MAX_METRICS_PER_BATCH, "metrics"));
    }
    if params.len() > MAX_PARAMS_PER_BATCH {
        return Err(too_many(params.len(), MAX_PARAMS_PER_BATCH, "params"));
    }
    if tags.len() > MAX_TAGS_PER_BATCH {
        return Err(too_many(tags.len(), MAX_TAGS_PER_BATCH, "tags"));
    }
    let total = metrics.len() + params.len() + tags.len();
    if total > MAX_ENTITIES_PER_BATCH {
        return Err(too_many(
            total,
            MAX_ENTITIES_PER_BATCH,
            "metrics, params, and tags in total",
        ));
    }
    let points: Vec<Metric> = metrics.iter().map(metric).collect::<Result<_, _>>()?;
    let batch = Batch {
        model_metrics: metrics
            .iter()
            .zip(&points)
            .filter_map(|(req, point)| model_metric(req, point).transpose())
            .collect::<Result<_, _>>()?,
        metrics: points,
        params: params.iter().map(param).collect::<Result<_, _>>()?,
        tags: tags.iter().map(tag).collect::<Result<_, _>>()?,
    };
    let mut keys: Vec<&str> = batch.params.iter().map(|p| p.key.as_str()).collect();
    keys.sort_unstable();
    let mut dups: Vec<&str> = keys
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    dups.dedup();
    if !dups.is_empty() {
        let listed: Vec<String> = dups
            .iter()
            .map(|k| format!("'{}'", k.replace('\'', "\\'")))
            .collect();
        return Err(ApiError::invalid(format!(
            "Duplicate parameter keys have been submitted: [{}]. Please ensure the request contains only one param value per param key.",
            listed.join(", ")
        ))
        .into());
    }
    Ok((id, batch))
}

fn limited(
    req: &Req,
    field: &str,
    max: usize,
    required: bool,
) -> Result<Option<String>, HttpError> {
    let value = if required {
        Some(req.str_req(field)?)
    } else {
        req.str_opt(field)?
    };
    if let Some(v) = &value {
        if v.chars().count() > max {
            return Err(ApiError::invalid(format!(
                "Dataset {field} exceeds the maximum length of {max}"
            ))
            .into());
        }
    }
    Ok(value)
}

fn dataset_input(req: &Req) -> Result<DatasetInput, HttpError> {
    let d = req
        .object("dataset")?
        .ok_or_else(|| ApiError::missing("dataset"))?;
    let dataset = Dataset {
        name: limited(&d, "name", MAX_DATASET_NAME_LENGTH, true)?.unwrap_or_default(),
        digest: limited(&d, "digest", MAX_DATASET_DIGEST_LENGTH, false)?.unwrap_or_default(),
        source_type: limited(&d, "source_type", MAX_DATASET_SOURCE_LENGTH, true)?
            .unwrap_or_default(),
        source: limited(&d, "source", MAX_DATASET_SOURCE_LENGTH, true)?.unwrap_or_default(),
        schema: limited(&d, "schema", MAX_DATASET_SCHEMA_LENGTH, false)?,
        profile: limited(&d, "profile", MAX_DATASET_PROFILE_LENGTH, false)?,
    };
    let tags = req.tags("tags")?;
    for t in &tags {
        if t.key.chars().count() > MAX_INPUT_TAG_KEY_LENGTH
            || t.value.chars().count() > MAX_INPUT_TAG_VALUE_LENGTH
        {
            return Err(ApiError::invalid(
                "Dataset input tag key or value exceeds the maximum length",
            )
            .into());
        }
        if t.key.chars().any(validate::is_control) {
            return Err(ApiError::invalid(format!(
                "Invalid dataset input tag key {}: keys cannot hold control characters.",
                validate::quoted(&t.key)
            ))
            .into());
        }
    }
    Ok(DatasetInput { tags, dataset })
}

async fn log_inputs(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let id = run_id(&req)?;
    let datasets = req
        .objects("datasets")?
        .iter()
        .map(dataset_input)
        .collect::<Result<Vec<_>, _>>()?;
    let models = req
        .objects("models")?
        .iter()
        .map(|m| {
            let id = m.str_req("model_id")?;
            validate::model_id(&id)?;
            Ok(id)
        })
        .collect::<Result<Vec<_>, HttpError>>()?;
    call(&store, move |s| s.log_inputs(&id, datasets, models)).await?;
    Ok(ok_json(vec![]))
}

async fn log_outputs(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let id = run_id(&req)?;
    let models = req.objects("models")?;
    if models.is_empty() {
        return Err(ApiError::missing("models").into());
    }
    let models = models
        .iter()
        .map(|m| {
            let model_id = m.str_req("model_id")?;
            validate::model_id(&model_id)?;
            Ok(ModelOutput {
                model_id,
                step: m.i64_req("step")?,
            })
        })
        .collect::<Result<Vec<_>, HttpError>>()?;
    call(&store, move |s| s.log_outputs(&id, models)).await?;
    Ok(ok_json(vec![]))
}

async fn search_runs(
    http: HttpRequest,
    body: web::Bytes,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    search(http, body, store, parse_mlflow_filter).await
}

/// runs/search with `OR`, parentheses and `IS NULL` everywhere (Cairn's own endpoint).
pub(super) async fn search_runs_extended(
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
    let experiment_ids = req
        .str_list("experiment_ids")?
        .iter()
        .map(|id| validate::experiment_id(id))
        .collect::<Result<Vec<_>, _>>()?;
    let params = req.search_params(
        Dialect::Runs,
        parse,
        DEFAULT_RUN_SEARCH_RESULTS,
        MAX_SEARCH_RESULTS,
    )?;
    let query = RunQuery {
        experiment_ids,
        filter: params.filter,
        order_by: params.order_by,
        view: view_type(&req, "run_view_type")?,
        max_results: params.max_results,
        offset: params.offset,
    };
    let page = call(&store, move |s| s.search_runs(&query)).await?;
    Ok(page_response("runs", page))
}
