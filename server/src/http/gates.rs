//! Cairn's promotion gates and history, beside the MLflow registry: gates are run
//! filters a version's source run must pass before a stage transition or alias move;
//! every transition and alias move is recorded with who, when, and the run's metrics.

use super::registry::{model_name, stage, Registry};
use super::request::Req;
use super::{call, ok_json, HttpError, Store};
use crate::store::{Gate, PromotionEvent, PromotionStore, RunQuery};
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use cairn_schema::filter::{parse_filter, Comparison, Dialect, Entity, Expr, Op, Value};
use cairn_schema::{ApiError, Run, ViewType};
use serde_json::{json, Map, Value as Json};

/// The promotion store as handlers receive it.
pub type Promotions = web::Data<dyn PromotionStore>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/2.0/cairn/registered-models")
            .service(web::resource("/gates/set").post(set_gate))
            .service(web::resource("/gates/list").get(list_gates))
            .service(web::resource("/gates/delete").delete(delete_gate))
            .service(web::resource("/history").get(promotion_history)),
    );
}

/// `stage:<Stage>` or `alias:<alias>` from a request naming exactly one of them.
fn target(req: &Req) -> Result<String, HttpError> {
    match (req.str_opt("stage")?, req.str_opt("alias")?) {
        (Some(s), None) => Ok(format!("stage:{}", stage(&s)?)),
        (None, Some(a)) if !a.is_empty() => Ok(format!("alias:{a}")),
        _ => Err(ApiError::invalid("Name exactly one of 'stage' or 'alias' for a gate.").into()),
    }
}

fn gate_json(g: &Gate) -> Json {
    let (kind, value) = g.target.split_once(':').unwrap_or(("stage", &g.target));
    json!({"name": g.name, kind: value, "filter": g.filter, "creation_timestamp": g.created})
}

/// The user a promotion is attributed to: `X-Cairn-User`, else the basic-auth user, else "unknown".
pub(super) fn actor(http: &HttpRequest) -> String {
    if let Some(u) = http
        .headers()
        .get("x-cairn-user")
        .and_then(|v| v.to_str().ok())
    {
        return u.chars().take(256).collect();
    }
    let basic = http
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| pair.split_once(':').map(|(u, _)| u.to_owned()));
    basic.unwrap_or_else(|| "unknown".into())
}

async fn set_gate(
    http: HttpRequest,
    body: web::Bytes,
    promotions: Promotions,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let name = model_name(&req, "name")?;
    let target = target(&req)?;
    let filter = req.str_req("filter")?;
    parse_filter(Dialect::Runs, &filter)
        .map_err(|e| ApiError::invalid(format!("Invalid gate filter: {}", e.0)))?;
    let gate = Gate {
        name,
        target,
        filter,
        created: now_ms(),
    };
    let stored = gate.clone();
    call(&promotions, move |p| p.set_gate(&stored)).await?;
    Ok(ok_json(vec![("gate", gate_json(&gate))]))
}

async fn list_gates(http: HttpRequest, promotions: Promotions) -> Result<HttpResponse, HttpError> {
    let name = Req::read(&http, &[])?.str_req("name")?;
    let gates = call(&promotions, move |p| p.gates(&name)).await?;
    Ok(ok_json(vec![(
        "gates",
        Json::Array(gates.iter().map(gate_json).collect()),
    )]))
}

async fn delete_gate(
    http: HttpRequest,
    body: web::Bytes,
    promotions: Promotions,
) -> Result<HttpResponse, HttpError> {
    let req = Req::read(&http, &body)?;
    let name = req.str_req("name")?;
    let target = target(&req)?;
    call(&promotions, move |p| p.delete_gate(&name, &target)).await?;
    Ok(ok_json(vec![]))
}

async fn promotion_history(
    http: HttpRequest,
    promotions: Promotions,
) -> Result<HttpResponse, HttpError> {
    let name = Req::read(&http, &[])?.str_req("name")?;
    let events = call(&promotions, move |p| p.promotion_history(&name)).await?;
    let events: Vec<Json> = events
        .into_iter()
        .map(|e| {
            let metrics: Json = serde_json::from_str(&e.metrics).unwrap_or_else(|_| json!({}));
            json!({
                "kind": e.kind, "alias": e.alias, "version": e.version.map(|v| v.to_string()),
                "from": e.from, "to": e.to, "timestamp": e.at, "user": e.actor,
                "run_id": e.run_id, "metrics": metrics,
            })
        })
        .collect();
    Ok(ok_json(vec![("events", Json::Array(events))]))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The latest metrics of a run as a JSON object (NaN as the string "NaN").
fn metrics_snapshot(run: Option<&Run>) -> String {
    let mut map = Map::new();
    for m in run.map(|r| r.data.metrics.as_slice()).unwrap_or_default() {
        let v = if m.value.is_finite() {
            json!(m.value)
        } else {
            json!(m.value.to_string())
        };
        map.insert(m.key.clone(), v);
    }
    Json::Object(map).to_string()
}

fn keys_of(expr: &Expr, out: &mut Vec<(Entity, String)>) {
    match expr {
        Expr::And(p) | Expr::Or(p) => p.iter().for_each(|e| keys_of(e, out)),
        Expr::Cmp(c) if !out.contains(&(c.entity, c.key.clone())) => {
            out.push((c.entity, c.key.clone()))
        }
        Expr::Cmp(_) => {}
    }
}

/// What a run actually holds for the keys a clause names, for the refusal message.
fn actual_values(run: &Run, clause: &Expr) -> String {
    let mut keys = Vec::new();
    keys_of(clause, &mut keys);
    keys.iter()
        .map(|(entity, key)| {
            let (prefix, found) = match entity {
                Entity::Metric => (
                    "metrics",
                    run.data
                        .metrics
                        .iter()
                        .find(|m| &m.key == key)
                        .map(|m| m.value.to_string()),
                ),
                Entity::Param => (
                    "params",
                    run.data
                        .params
                        .iter()
                        .find(|p| &p.key == key)
                        .map(|p| format!("'{}'", p.value)),
                ),
                Entity::Tag => (
                    "tags",
                    run.data
                        .tags
                        .iter()
                        .find(|t| &t.key == key)
                        .map(|t| format!("'{}'", t.value)),
                ),
                _ => ("attributes", None),
            };
            format!(
                "{prefix}.{key} = {}",
                found.unwrap_or_else(|| "(not logged)".into())
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Refuses a promotion whose source run fails the gate of `target`, naming the first
/// failing clause and the run's actual values. Returns the source run (if any) for the
/// history record.
pub(super) async fn enforce(
    promotions: &Promotions,
    store: &Store,
    name: &str,
    version: i64,
    run_id: &str,
    target: &str,
) -> Result<Option<Run>, HttpError> {
    let run = if run_id.is_empty() {
        None
    } else {
        let id = run_id.to_owned();
        call(store, move |s| s.get_run(&id)).await.ok()
    };
    let n = name.to_owned();
    let gate = call(promotions, move |p| p.gates(&n))
        .await?
        .into_iter()
        .find(|g| g.target == target);
    let Some(gate) = gate else { return Ok(run) };
    let what = target.replace(':', " ");
    let Some(run) = run else {
        return Err(ApiError::invalid(format!(
            "Promotion of {name} version {version} to {what} refused: the gate `{}` needs a source run and this version has none.",
            gate.filter
        ))
        .into());
    };
    let expr = parse_filter(Dialect::Runs, &gate.filter)
        .map_err(|e| {
            ApiError::invalid(format!("The stored gate filter no longer parses: {}", e.0))
        })?
        .ok_or_else(|| ApiError::invalid("The gate filter is empty"))?;
    let clauses = match &expr {
        Expr::And(parts) => parts.clone(),
        other => vec![other.clone()],
    };
    let experiment_id: i64 = run.info.experiment_id.parse().unwrap_or(0);
    for clause in clauses {
        let this_run = Expr::Cmp(Comparison {
            entity: Entity::Attribute,
            key: "run_id".into(),
            op: Op::Eq,
            value: Value::Str(run.info.run_id.clone()),
        });
        let query = RunQuery {
            experiment_ids: vec![experiment_id],
            filter: Some(Expr::And(vec![clause.clone(), this_run])),
            order_by: Vec::new(),
            view: ViewType::All,
            max_results: 1,
            offset: 0,
        };
        let page = call(store, move |s| s.search_runs(&query)).await?;
        if page.items.is_empty() {
            return Err(ApiError::invalid(format!(
                "Promotion of {name} version {version} to {what} refused: run {} fails the gate clause `{clause}` ({}).",
                run.info.run_id,
                actual_values(&run, &clause)
            ))
            .into());
        }
    }
    Ok(Some(run))
}

/// Records a transition or alias move.
#[allow(clippy::too_many_arguments)] // one field each of the event, kept flat at the call sites
pub(super) async fn record(
    promotions: &Promotions,
    http: &HttpRequest,
    name: &str,
    kind: &str,
    alias: Option<&str>,
    version: Option<i64>,
    from: Option<String>,
    to: Option<String>,
    run: Option<&Run>,
) -> Result<(), HttpError> {
    let event = PromotionEvent {
        name: name.to_owned(),
        kind: kind.to_owned(),
        alias: alias.map(str::to_owned),
        version,
        from,
        to,
        at: now_ms(),
        actor: actor(http),
        run_id: run.map(|r| r.info.run_id.clone()).unwrap_or_default(),
        metrics: metrics_snapshot(run),
    };
    call(promotions, move |p| p.record_promotion(&event)).await
}

/// The current version of a model version (run id and stage) for gate checks.
pub(super) async fn version_facts(
    registry: &Registry,
    name: &str,
    version: i64,
) -> Result<(String, String), HttpError> {
    let n = name.to_owned();
    let v = call(registry, move |r| r.get_model_version(&n, version)).await?;
    Ok((v.run_id, v.current_stage))
}
