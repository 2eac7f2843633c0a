//! Metric history endpoints: get-history (paged) and get-history-bulk-interval (sampled).

use super::request::Req;
use super::runs::run_id;
use super::{call, ok_json, page_response, HttpError, Store};
use crate::store::BulkIntervalQuery;
use actix_web::{web, HttpRequest, HttpResponse, Scope};
use cairn_schema::limits::{MAX_BULK_HISTORY_RESULTS, MAX_BULK_HISTORY_RUNS};
use cairn_schema::{validate, ApiError};
use serde_json::json;

pub fn routes(scope: Scope) -> Scope {
    scope
        .service(web::resource("/metrics/get-history").get(get_metric_history))
        .service(
            web::resource("/metrics/get-history-bulk-interval")
                .get(get_metric_history_bulk_interval),
        )
}

async fn get_metric_history(http: HttpRequest, store: Store) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &[])?;
    let id = run_id(&req)?;
    let key = req.str_req("metric_key")?;
    let max_results = req.i64_opt("max_results")?;
    if matches!(max_results, Some(m) if m <= 0) {
        return Err(ApiError::invalid("max_results must be a positive integer.").into());
    }
    let offset = req.page_offset()?;
    let page = call(&store, move |s| {
        s.metric_history(&id, &key, max_results, offset)
    })
    .await?;
    Ok(page_response("metrics", page))
}

async fn get_metric_history_bulk_interval(
    http: HttpRequest,
    store: Store,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &[])?;
    let run_ids = req.str_list("run_ids")?;
    if run_ids.is_empty() {
        return Err(ApiError::missing("run_ids").into());
    }
    if run_ids.len() > MAX_BULK_HISTORY_RUNS {
        return Err(ApiError::invalid(format!(
            "GetMetricHistoryBulkInterval request must specify at most {MAX_BULK_HISTORY_RUNS} run_ids. Received {} run_ids.",
            run_ids.len()
        ))
        .into());
    }
    for id in &run_ids {
        validate::run_id(id)?;
    }
    let key = req.str_req("metric_key")?;
    let steps = match (req.i64_opt("start_step")?, req.i64_opt("end_step")?) {
        (None, None) => None,
        (Some(start), Some(end)) if start <= end => Some((start, end)),
        (Some(start), Some(end)) => {
            return Err(ApiError::invalid(format!(
                "end_step must be greater than start_step. Found start_step={start} and end_step={end}."
            ))
            .into())
        }
        _ => return Err(ApiError::invalid("If either start step or end step are specified, both must be specified.").into()),
    };
    let max_results = req
        .i64_opt("max_results")?
        .unwrap_or(MAX_BULK_HISTORY_RESULTS);
    if !(1..=MAX_BULK_HISTORY_RESULTS).contains(&max_results) {
        return Err(ApiError::invalid(format!(
            "max_results must be between 1 and {MAX_BULK_HISTORY_RESULTS}. See the API docs for more information about request parameters."
        ))
        .into());
    }
    let query = BulkIntervalQuery {
        run_ids,
        key,
        steps,
        max_results,
    };
    let metrics = call(&store, move |s| s.metric_history_bulk_interval(&query)).await?;
    Ok(ok_json(vec![("metrics", json!(metrics))]))
}
