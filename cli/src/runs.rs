//! `cairn runs ...`: list, show, compare, start, end, bulk edits and the Pareto front.

use crate::args::{
    BulkArgs, CompareArgs, EndArgs, EndStatus, MoveRunsArgs, ParetoArgs, RunRef, RunsCommand,
    RunsListArgs, Selection, StartArgs, TagRunsArgs,
};
use crate::ctx::{Ctx, UsageError};
use crate::experiments;
use crate::output::{self, number, time, Table};
use cairn_client::eval::compare::pareto_front;
use cairn_client::schema::{Run, RunStatus, Tag, ViewType};
use cairn_client::{Client, Error, SearchRuns};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// The run a logging command acts on: `--run`, else `MLFLOW_RUN_ID`.
pub fn run_id(r: &RunRef) -> anyhow::Result<String> {
    r.run
        .clone()
        .filter(|r| !r.is_empty())
        .ok_or_else(|| UsageError("name the run with --run or MLFLOW_RUN_ID".into()).into())
}

/// Searches through Cairn's extended grammar, falling back to MLflow's endpoint when the
/// server is not Cairn.
pub async fn search(
    client: &Client,
    query: SearchRuns,
    limit: Option<usize>,
) -> anyhow::Result<Vec<Run>> {
    let extended = SearchRuns {
        extended: true,
        ..query.clone()
    };
    match client.search_all_runs(&extended, limit).await {
        Err(Error::Api { status: 404, .. }) => Ok(client.search_all_runs(&query, limit).await?),
        other => Ok(other?),
    }
}

fn duration_s(run: &Run) -> Value {
    match run.info.end_time {
        Some(end) if run.info.start_time > 0 => json!((end - run.info.start_time) as f64 / 1000.0),
        _ => Value::Null,
    }
}

/// One named column of a run.
fn column(run: &Run, name: &str) -> Value {
    if let Some(k) = name.strip_prefix("metrics.") {
        return run
            .data
            .metrics
            .iter()
            .find(|m| m.key == k)
            .map_or(Value::Null, |m| number(m.value));
    }
    if let Some(k) = name.strip_prefix("params.") {
        return run
            .data
            .params
            .iter()
            .find(|p| p.key == k)
            .map_or(Value::Null, |p| json!(p.value));
    }
    if let Some(k) = name.strip_prefix("tags.") {
        return run
            .data
            .tags
            .iter()
            .find(|t| t.key == k)
            .map_or(Value::Null, |t| json!(t.value));
    }
    let i = &run.info;
    match name {
        "run_id" => json!(i.run_id),
        "run_name" => json!(i.run_name),
        "experiment_id" => json!(i.experiment_id),
        "status" => json!(i.status.as_str()),
        "user" | "user_id" => json!(i.user_id),
        "start_time" => time(Some(i.start_time).filter(|t| *t > 0)),
        "end_time" => time(i.end_time),
        "duration_s" => duration_s(run),
        "lifecycle_stage" => json!(i.lifecycle_stage),
        "artifact_uri" => json!(i.artifact_uri),
        _ => Value::Null,
    }
}

const KNOWN: [&str; 10] = [
    "run_id",
    "run_name",
    "experiment_id",
    "status",
    "user",
    "user_id",
    "start_time",
    "end_time",
    "duration_s",
    "lifecycle_stage",
];

/// Everything about a run as one JSON object, for `--output json`.
fn run_object(run: &Run) -> Value {
    let mut o = Map::new();
    for c in [
        "run_id",
        "run_name",
        "experiment_id",
        "status",
        "user_id",
        "start_time",
        "end_time",
        "duration_s",
        "lifecycle_stage",
        "artifact_uri",
    ] {
        o.insert(c.into(), column(run, c));
    }
    o.insert(
        "metrics".into(),
        Value::Object(
            run.data
                .metrics
                .iter()
                .map(|m| (m.key.clone(), number(m.value)))
                .collect(),
        ),
    );
    o.insert(
        "params".into(),
        Value::Object(
            run.data
                .params
                .iter()
                .map(|p| (p.key.clone(), json!(p.value)))
                .collect(),
        ),
    );
    o.insert(
        "tags".into(),
        Value::Object(
            run.data
                .tags
                .iter()
                .map(|t| (t.key.clone(), json!(t.value)))
                .collect(),
        ),
    );
    Value::Object(o)
}

async fn list(ctx: &Ctx, client: &Client, args: RunsListArgs) -> anyhow::Result<()> {
    for c in &args.columns {
        if !(KNOWN.contains(&c.as_str())
            || c.starts_with("metrics.")
            || c.starts_with("params.")
            || c.starts_with("tags."))
        {
            return Err(UsageError(format!(
                "unknown column {c:?}: use {} or metrics.KEY, params.KEY, tags.KEY",
                KNOWN.join(", ")
            ))
            .into());
        }
    }
    let query = SearchRuns {
        experiment_ids: experiments::ids(client, &args.experiments).await?,
        filter: args.filter,
        order_by: args.order_by,
        max_results: Some(args.limit.clamp(1, 1000) as i64),
        view_type: Some(experiments::view_type(args.view)),
        ..SearchRuns::default()
    };
    let runs = search(client, query, (!args.all_pages).then_some(args.limit)).await?;
    if ctx.format == crate::args::Format::Json && args.columns.is_empty() {
        outln!(
            "{}",
            serde_json::to_string_pretty(&runs.iter().map(run_object).collect::<Vec<_>>())?
        )?;
        return Ok(());
    }
    let columns = if args.columns.is_empty() {
        let metrics: BTreeSet<&str> = runs
            .iter()
            .flat_map(|r| r.data.metrics.iter().map(|m| m.key.as_str()))
            .collect();
        let mut cols: Vec<String> = ["run_id", "run_name", "status", "start_time", "duration_s"]
            .map(String::from)
            .to_vec();
        cols.extend(metrics.into_iter().take(8).map(|k| format!("metrics.{k}")));
        cols
    } else {
        args.columns
    };
    let mut table = Table::new(columns.clone());
    for run in &runs {
        table.push(columns.iter().map(|c| column(run, c)).collect());
    }
    output::print(ctx, &table)
}

async fn show(ctx: &Ctx, client: &Client, run_id: &str) -> anyhow::Result<()> {
    let run = client.get_run(run_id).await?;
    let artifacts = client
        .list_artifacts(run_id, None)
        .await
        .unwrap_or_default();
    if ctx.format == crate::args::Format::Json {
        let mut o = run_object(&run);
        o["datasets"] = json!(run
            .inputs
            .dataset_inputs
            .iter()
            .map(|d| json!({"name": d.dataset.name, "digest": d.dataset.digest}))
            .collect::<Vec<_>>());
        o["artifacts"] = json!(artifacts
            .iter()
            .map(|a| json!({"path": a.path, "is_dir": a.is_dir, "file_size": a.file_size}))
            .collect::<Vec<_>>());
        outln!("{}", serde_json::to_string_pretty(&o)?)?;
        return Ok(());
    }
    let mut table = Table::new(["section", "key", "value"]);
    for c in [
        "run_id",
        "run_name",
        "experiment_id",
        "status",
        "user_id",
        "start_time",
        "end_time",
        "duration_s",
        "lifecycle_stage",
        "artifact_uri",
    ] {
        table.push(vec![
            json!("run"),
            json!(c),
            json!(output::cell(&column(&run, c))),
        ]);
    }
    for p in &run.data.params {
        table.push(vec![json!("param"), json!(p.key), json!(p.value)]);
    }
    for m in &run.data.metrics {
        table.push(vec![
            json!("metric"),
            json!(m.key),
            json!(format!(
                "{} (step {})",
                output::cell(&number(m.value)),
                m.step
            )),
        ]);
    }
    for t in &run.data.tags {
        table.push(vec![json!("tag"), json!(t.key), json!(t.value)]);
    }
    for d in &run.inputs.dataset_inputs {
        table.push(vec![
            json!("dataset"),
            json!(d.dataset.name),
            json!(d.dataset.digest),
        ]);
    }
    for a in &artifacts {
        let size = a
            .file_size
            .map(|s| format!("{s} bytes"))
            .unwrap_or_else(|| "dir".into());
        table.push(vec![json!("artifact"), json!(a.path), json!(size)]);
    }
    output::print(ctx, &table)
}

async fn compare(ctx: &Ctx, client: &Client, args: CompareArgs) -> anyhow::Result<()> {
    let mut runs = Vec::new();
    for id in &args.runs {
        runs.push(client.get_run(id).await?);
    }
    let mut keys: Vec<String> = ["run_name", "status", "start_time", "duration_s"]
        .map(String::from)
        .to_vec();
    let union =
        |f: &dyn Fn(&Run) -> Vec<String>| -> BTreeSet<String> { runs.iter().flat_map(f).collect() };
    keys.extend(union(&|r: &Run| {
        r.data
            .params
            .iter()
            .map(|p| format!("params.{}", p.key))
            .collect()
    }));
    keys.extend(union(&|r: &Run| {
        r.data
            .metrics
            .iter()
            .map(|m| format!("metrics.{}", m.key))
            .collect()
    }));
    keys.extend(
        union(&|r: &Run| {
            r.data
                .tags
                .iter()
                .map(|t| format!("tags.{}", t.key))
                .collect()
        })
        .into_iter()
        .filter(|k| args.all_tags || !k.starts_with("tags.mlflow.")),
    );
    let heads: Vec<String> = runs
        .iter()
        .map(|r| {
            format!(
                "{} ({})",
                r.info.run_name,
                &r.info.run_id[..8.min(r.info.run_id.len())]
            )
        })
        .collect();
    if ctx.format == crate::args::Format::Json {
        let rows: Vec<Value> = keys
            .iter()
            .map(|k| {
                let values: Vec<Value> = runs.iter().map(|r| column(r, k)).collect();
                let differs = values.windows(2).any(|w| w[0] != w[1]);
                let by_run: Map<String, Value> = runs
                    .iter()
                    .map(|r| r.info.run_id.clone())
                    .zip(values)
                    .collect();
                json!({"key": k, "differs": differs, "values": by_run})
            })
            .filter(|row| !args.only_diff || row["differs"] == json!(true))
            .collect();
        outln!("{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(());
    }
    let mut table = Table::new(
        std::iter::once("key".to_owned())
            .chain(heads)
            .chain(std::iter::once("diff".to_owned())),
    );
    for k in &keys {
        let values: Vec<Value> = runs.iter().map(|r| column(r, k)).collect();
        let differs = values.windows(2).any(|w| w[0] != w[1]);
        if args.only_diff && !differs {
            continue;
        }
        let mut row = vec![json!(k)];
        row.extend(values);
        row.push(json!(if differs { "*" } else { "" }));
        table.push_marked(row, differs);
    }
    output::print(ctx, &table)
}

/// The runs a bulk command names: the ids given, then every match of the filter.
async fn select(client: &Client, s: &Selection, view: ViewType) -> anyhow::Result<Vec<Run>> {
    if s.runs.is_empty() && s.filter.is_none() {
        return Err(UsageError("name runs by id or select them with --filter".into()).into());
    }
    let mut runs = Vec::new();
    for id in &s.runs {
        runs.push(client.get_run(id).await?);
    }
    if let Some(filter) = &s.filter {
        let query = SearchRuns {
            experiment_ids: experiments::ids(client, &s.experiments).await?,
            filter: Some(filter.clone()),
            max_results: Some(1000),
            view_type: Some(view),
            ..SearchRuns::default()
        };
        for run in search(client, query, None).await? {
            if !runs.iter().any(|r: &Run| r.info.run_id == run.info.run_id) {
                runs.push(run);
            }
        }
    }
    Ok(runs)
}

/// Applies `action` to each selected run (unless a dry run) and lists them.
async fn bulk<F, Fut>(
    ctx: &Ctx,
    client: &Client,
    selection: &Selection,
    view: ViewType,
    verb: &str,
    action: F,
) -> anyhow::Result<()>
where
    F: Fn(Run) -> Fut,
    Fut: std::future::Future<Output = Result<(), Error>>,
{
    let runs = select(client, selection, view).await?;
    let what = if selection.dry_run {
        format!("would {verb}")
    } else {
        verb.to_owned()
    };
    let mut table = Table::new(["run_id", "run_name", "experiment_id", "action"]);
    for run in runs {
        table.push(vec![
            json!(run.info.run_id),
            json!(run.info.run_name),
            json!(run.info.experiment_id),
            json!(what),
        ]);
        if !selection.dry_run {
            action(run).await?;
        }
    }
    if ctx.format == crate::args::Format::Table && table.rows.is_empty() {
        outln!("no run matches")?;
        return Ok(());
    }
    output::print(ctx, &table)
}

pub async fn run(ctx: &Ctx, command: RunsCommand) -> anyhow::Result<()> {
    let client = ctx.client()?;
    match command {
        RunsCommand::List(args) => list(ctx, &client, args).await,
        RunsCommand::Show { run } => show(ctx, &client, &run).await,
        RunsCommand::Compare(args) => compare(ctx, &client, args).await,
        RunsCommand::Start(StartArgs {
            experiment,
            name,
            tags,
        }) => {
            let experiment_id = experiments::resolve_or_create(&client, &experiment).await?;
            let mut tags: Vec<Tag> = tags
                .into_iter()
                .map(|(key, value)| Tag { key, value })
                .collect();
            if let Some(user) = std::env::var("USER").ok().filter(|u| !u.is_empty()) {
                if !tags.iter().any(|t| t.key == "mlflow.user") {
                    tags.push(Tag {
                        key: "mlflow.user".into(),
                        value: user,
                    });
                }
            }
            let run = client
                .create_run_with_tags(&experiment_id, name.as_deref(), &tags)
                .await?;
            output::done(
                ctx,
                &run.info.run_id,
                json!({"run_id": run.info.run_id, "run_name": run.info.run_name, "experiment_id": experiment_id}),
            )
        }
        RunsCommand::End(EndArgs { run, status }) => {
            let id = run_id(&run)?;
            let status = match status {
                EndStatus::Finished => RunStatus::Finished,
                EndStatus::Failed => RunStatus::Failed,
                EndStatus::Killed => RunStatus::Killed,
            };
            let info = client.finish_run(&id, status).await?;
            output::done(
                ctx,
                &format!("run {id} {}", info.status.as_str()),
                json!({"run_id": id, "status": info.status.as_str(), "end_time": time(info.end_time)}),
            )
        }
        RunsCommand::Delete(BulkArgs { selection }) => {
            bulk(
                ctx,
                &client,
                &selection,
                ViewType::ActiveOnly,
                "delete",
                |r| {
                    let client = client.clone();
                    async move { client.delete_run(&r.info.run_id).await }
                },
            )
            .await
        }
        RunsCommand::Restore(BulkArgs { selection }) => {
            bulk(
                ctx,
                &client,
                &selection,
                ViewType::DeletedOnly,
                "restore",
                |r| {
                    let client = client.clone();
                    async move { client.restore_run(&r.info.run_id).await }
                },
            )
            .await
        }
        RunsCommand::Tag(TagRunsArgs {
            selection,
            set,
            unset,
        }) => {
            if set.is_empty() && unset.is_empty() {
                return Err(
                    UsageError("name tags with --set KEY=VALUE or --unset KEY".into()).into(),
                );
            }
            let tags: Vec<Tag> = set
                .into_iter()
                .map(|(key, value)| Tag { key, value })
                .collect();
            let verb = "tag";
            bulk(ctx, &client, &selection, ViewType::ActiveOnly, verb, |r| {
                let (client, tags, unset) = (client.clone(), tags.clone(), unset.clone());
                async move {
                    if !tags.is_empty() {
                        client.log_batch(&r.info.run_id, &[], &[], &tags).await?;
                    }
                    for k in &unset {
                        match client.delete_tag(&r.info.run_id, k).await {
                            Err(e) if e.is_not_found() => {}
                            other => other?,
                        }
                    }
                    Ok(())
                }
            })
            .await
        }
        RunsCommand::Move(MoveRunsArgs { selection, to }) => {
            let target = experiments::resolve(&client, &to).await?.experiment_id;
            bulk(
                ctx,
                &client,
                &selection,
                ViewType::ActiveOnly,
                &format!("move to {target}"),
                |r| {
                    let (client, target) = (client.clone(), target.clone());
                    async move { client.move_run(&r.info.run_id, &target).await }
                },
            )
            .await
        }
        RunsCommand::Pareto(args) => pareto(ctx, &client, args).await,
    }
}

/// Prints the runs that no other run beats on every named metric.
async fn pareto(ctx: &Ctx, client: &Client, args: ParetoArgs) -> anyhow::Result<()> {
    if args.maximize.is_empty() && args.minimize.is_empty() {
        return Err(UsageError("name at least one --max or --min metric".into()).into());
    }
    let experiment_id = experiments::resolve(client, &args.experiment)
        .await?
        .experiment_id;
    let objectives: Vec<(String, bool)> = args
        .maximize
        .iter()
        .map(|m| (m.clone(), true))
        .chain(args.minimize.iter().map(|m| (m.clone(), false)))
        .collect();
    let keys: Vec<String> = objectives
        .iter()
        .map(|(m, _)| {
            m.strip_prefix("metrics.")
                .or_else(|| m.strip_prefix("metric."))
                .unwrap_or(m)
                .to_owned()
        })
        .collect();
    let query = SearchRuns {
        experiment_ids: vec![experiment_id],
        max_results: Some(1000),
        ..SearchRuns::default()
    };
    let runs = client.search_all_runs(&query, None).await?;
    let mut points = Vec::new();
    for run in &runs {
        let values: Option<Vec<f64>> = keys
            .iter()
            .map(|k| {
                run.data
                    .metrics
                    .iter()
                    .find(|m| &m.key == k)
                    .map(|m| m.value)
            })
            .collect();
        if let Some(values) = values {
            points.push((run.info.run_id.clone(), values));
        }
    }
    let maximize: Vec<bool> = objectives.iter().map(|(_, max)| *max).collect();
    let front = pareto_front(&points, &maximize);
    let mut table = Table::new(
        ["run_id".to_owned(), "run_name".to_owned()]
            .into_iter()
            .chain(objectives.iter().map(|(m, _)| m.clone())),
    );
    for id in &front {
        let run = runs
            .iter()
            .find(|r| &r.info.run_id == id)
            .expect("from these runs");
        let values = &points
            .iter()
            .find(|(n, _)| n == id)
            .expect("on the front")
            .1;
        let mut row = vec![json!(id), json!(run.info.run_name)];
        row.extend(values.iter().map(|v| number(*v)));
        table.push(row);
    }
    output::print(ctx, &table)
}
