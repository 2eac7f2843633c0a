//! `cairn models ...`: the registry from a terminal — models, versions, stages, aliases,
//! gates and promotion history.

use crate::args::{GateCommand, GateTargetArgs, ModelsCommand, RegisterArgs};
use crate::ctx::{Ctx, UsageError};
use crate::output::{self, number, time, Table};
use cairn_client::schema::registry::ModelVersion;
use cairn_client::{Client, GateTarget, NewVersion, SearchRegistry};
use serde_json::{json, Value};

fn target(t: GateTargetArgs) -> anyhow::Result<GateTarget> {
    match (t.stage, t.alias) {
        (Some(s), None) => Ok(GateTarget::Stage(s)),
        (None, Some(a)) => Ok(GateTarget::Alias(a)),
        _ => Err(UsageError("name exactly one of --stage or --alias".into()).into()),
    }
}

/// Every version of a model, newest first.
pub async fn versions(client: &Client, name: &str) -> anyhow::Result<Vec<ModelVersion>> {
    let filter = if name.contains('\'') {
        format!("name = \"{name}\"")
    } else {
        format!("name = '{name}'")
    };
    let mut query = SearchRegistry {
        filter: Some(filter),
        max_results: Some(1000),
        ..SearchRegistry::default()
    };
    let mut out = Vec::new();
    loop {
        let page = client.search_model_versions(&query).await?;
        out.extend(page.items);
        match page.next_page_token {
            Some(t) => query.page_token = Some(t),
            None => break,
        }
    }
    out.sort_by_key(|v| std::cmp::Reverse(v.version.parse::<i64>().unwrap_or(0)));
    Ok(out)
}

fn version_row(v: &ModelVersion) -> Vec<Value> {
    vec![
        json!(v.version),
        json!(v.current_stage),
        json!(v.aliases.join(",")),
        json!(v.run_id),
        json!(v.source),
        time(Some(v.creation_timestamp)),
        json!(v.description),
    ]
}

const VERSION_COLUMNS: [&str; 7] = [
    "version",
    "stage",
    "aliases",
    "run_id",
    "source",
    "created",
    "description",
];

pub async fn run(ctx: &Ctx, command: ModelsCommand) -> anyhow::Result<()> {
    let client = ctx.client()?;
    match command {
        ModelsCommand::List { filter } => {
            let mut query = SearchRegistry {
                filter,
                max_results: Some(1000),
                ..SearchRegistry::default()
            };
            let mut table = Table::new([
                "name",
                "latest_versions",
                "aliases",
                "last_updated",
                "description",
            ]);
            loop {
                let page = client.search_registered_models(&query).await?;
                for m in page.items {
                    let latest: Vec<String> = m
                        .latest_versions
                        .iter()
                        .map(|v| format!("{}:{}", v.current_stage, v.version))
                        .collect();
                    let aliases: Vec<String> = m
                        .aliases
                        .iter()
                        .map(|a| format!("{}={}", a.alias, a.version))
                        .collect();
                    table.push(vec![
                        json!(m.name),
                        json!(latest.join(",")),
                        json!(aliases.join(",")),
                        time(Some(m.last_updated_timestamp)),
                        json!(m.description.unwrap_or_default()),
                    ]);
                }
                match page.next_page_token {
                    Some(t) => query.page_token = Some(t),
                    None => break,
                }
            }
            output::print(ctx, &table)
        }
        ModelsCommand::Show { name } => {
            let model = client.get_registered_model(&name).await?;
            let versions = versions(&client, &name).await?;
            let gates = client.list_gates(&name).await.unwrap_or_default();
            if ctx.format == crate::args::Format::Json {
                let doc = json!({"model": model, "versions": versions, "gates": gates.iter().map(|g| json!({"stage": g.stage, "alias": g.alias, "filter": g.filter})).collect::<Vec<_>>()});
                outln!("{}", serde_json::to_string_pretty(&doc)?)?;
                return Ok(());
            }
            outln!(
                "{}  {}",
                model.name,
                model.description.clone().unwrap_or_default()
            )?;
            let mut table = Table::new(VERSION_COLUMNS);
            for v in &versions {
                table.push(version_row(v));
            }
            output::print(ctx, &table)?;
            for g in &gates {
                let on = g
                    .stage
                    .as_ref()
                    .map(|s| format!("stage {s}"))
                    .or(g.alias.as_ref().map(|a| format!("alias {a}")))
                    .unwrap_or_default();
                outln!("gate on {on}: {}", g.filter)?;
            }
            Ok(())
        }
        ModelsCommand::Register(RegisterArgs {
            name,
            source,
            run,
            path,
            description,
        }) => {
            let source = match (source, &run) {
                (Some(s), _) => s,
                (None, Some(r)) => format!("runs:/{r}/{}", path.trim_matches('/')),
                (None, None) => return Err(UsageError("give --source or --run".into()).into()),
            };
            // The server wants the run of a runs:/ source named, as MLflow's client does.
            let run = run.or_else(|| {
                source
                    .strip_prefix("runs:/")
                    .and_then(|rest| rest.trim_start_matches('/').split('/').next())
                    .filter(|id| !id.is_empty())
                    .map(str::to_owned)
            });
            match client.create_registered_model(&name, None, &[]).await {
                Ok(_) => {}
                Err(e) if e.code() == Some("RESOURCE_ALREADY_EXISTS") => {}
                Err(e) => return Err(e.into()),
            }
            let v = client
                .create_model_version(
                    &name,
                    &NewVersion {
                        source,
                        run_id: run,
                        description,
                        tags: vec![],
                    },
                )
                .await?;
            output::done(
                ctx,
                &format!("registered {name} version {}", v.version),
                json!({"name": name, "version": v.version, "source": v.source, "run_id": v.run_id}),
            )
        }
        ModelsCommand::Promote {
            name,
            version,
            stage,
            archive_existing,
        } => {
            let v = client
                .transition_stage(&name, &version, &stage, archive_existing)
                .await?;
            output::done(
                ctx,
                &format!("{name} version {} is now in {}", v.version, v.current_stage),
                json!({"name": name, "version": v.version, "stage": v.current_stage}),
            )
        }
        ModelsCommand::Alias {
            name,
            alias,
            version,
            delete,
        } => {
            if delete {
                client.delete_alias(&name, &alias).await?;
                return output::done(
                    ctx,
                    &format!("removed alias {alias} of {name}"),
                    json!({"name": name, "alias": alias, "version": Value::Null}),
                );
            }
            let version = version.ok_or_else(|| {
                UsageError("name the version the alias points at, or --delete".into())
            })?;
            client.set_alias(&name, &alias, &version).await?;
            output::done(
                ctx,
                &format!("{name}@{alias} -> version {version}"),
                json!({"name": name, "alias": alias, "version": version}),
            )
        }
        ModelsCommand::Gate(GateCommand::Set {
            name,
            target: t,
            filter,
        }) => {
            let g = client.set_gate(&name, &target(t)?, &filter).await?;
            let on = g
                .stage
                .clone()
                .map(|s| format!("stage {s}"))
                .or(g.alias.clone().map(|a| format!("alias {a}")))
                .unwrap_or_default();
            output::done(
                ctx,
                &format!("gate on {name} {on}: {}", g.filter),
                json!({"name": name, "stage": g.stage, "alias": g.alias, "filter": g.filter}),
            )
        }
        ModelsCommand::Gate(GateCommand::List { name }) => {
            let mut table = Table::new(["stage", "alias", "filter", "created"]);
            for g in client.list_gates(&name).await? {
                table.push(vec![
                    json!(g.stage),
                    json!(g.alias),
                    json!(g.filter),
                    time(Some(g.creation_timestamp)),
                ]);
            }
            output::print(ctx, &table)
        }
        ModelsCommand::Gate(GateCommand::Delete { name, target: t }) => {
            client.delete_gate(&name, &target(t)?).await?;
            output::done(
                ctx,
                &format!("removed the gate of {name}"),
                json!({"name": name, "deleted": true}),
            )
        }
        ModelsCommand::History { name } => {
            let mut table = Table::new([
                "timestamp",
                "kind",
                "alias",
                "version",
                "from",
                "to",
                "user",
                "run_id",
                "metrics",
            ]);
            for e in client.promotion_history(&name).await? {
                let metrics: serde_json::Map<String, Value> = e
                    .metrics
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_f64().map_or(v.clone(), number)))
                    .collect();
                table.push(vec![
                    time(Some(e.timestamp)),
                    json!(e.kind),
                    json!(e.alias),
                    json!(e.version),
                    json!(e.from),
                    json!(e.to),
                    json!(e.user),
                    json!(e.run_id),
                    Value::Object(metrics),
                ]);
            }
            output::print(ctx, &table)
        }
    }
}
