//! `cairn experiments ...`, and finding an experiment by name or id for other commands.

use crate::args::{ExperimentsCommand, ExperimentsListArgs, View};
use crate::ctx::{Ctx, NotFound};
use crate::output::{self, time, Table};
use cairn_client::schema::{Experiment, Tag, ViewType};
use cairn_client::{Client, SearchExperiments};
use serde_json::{json, Value};

pub fn view_type(view: View) -> ViewType {
    match view {
        View::Active => ViewType::ActiveOnly,
        View::Deleted => ViewType::DeletedOnly,
        View::All => ViewType::All,
    }
}

/// The experiment a user named: an id if it is one, else a name.
pub async fn resolve(client: &Client, key: &str) -> anyhow::Result<Experiment> {
    if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) {
        match client.get_experiment(key).await {
            Ok(e) => return Ok(e),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
    }
    match client.get_experiment_by_name(key).await {
        Ok(e) => Ok(e),
        Err(e) if e.is_not_found() => {
            Err(NotFound(format!("no experiment named or numbered {key:?}")).into())
        }
        Err(e) => Err(e.into()),
    }
}

/// The id of the experiment a user named, created when it is an unknown name.
pub async fn resolve_or_create(client: &Client, key: &str) -> anyhow::Result<String> {
    match resolve(client, key).await {
        Ok(e) => Ok(e.experiment_id),
        Err(e)
            if e.downcast_ref::<NotFound>().is_some()
                && !key.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Ok(client.get_or_create_experiment(key).await?)
        }
        Err(e) => Err(e),
    }
}

/// Every experiment in a view, all pages.
pub async fn all(
    client: &Client,
    filter: Option<String>,
    view: ViewType,
) -> anyhow::Result<Vec<Experiment>> {
    let mut query = SearchExperiments {
        filter,
        max_results: Some(1000),
        view_type: Some(view),
        extended: true,
        ..SearchExperiments::default()
    };
    let mut out = Vec::new();
    loop {
        let page = match client.search_experiments(&query).await {
            // Not a Cairn server: MLflow's grammar on MLflow's endpoint.
            Err(cairn_client::Error::Api { status: 404, .. }) if query.extended => {
                query.extended = false;
                continue;
            }
            other => other?,
        };
        out.extend(page.items);
        match page.next_page_token {
            Some(t) => query.page_token = Some(t),
            None => return Ok(out),
        }
    }
}

/// The ids of the named experiments, or of every active one when none is named.
pub async fn ids(client: &Client, keys: &[String]) -> anyhow::Result<Vec<String>> {
    if keys.is_empty() {
        return Ok(all(client, None, ViewType::ActiveOnly)
            .await?
            .into_iter()
            .map(|e| e.experiment_id)
            .collect());
    }
    let mut ids = Vec::new();
    for k in keys {
        ids.push(resolve(client, k).await?.experiment_id);
    }
    Ok(ids)
}

fn tags_object(tags: &[Tag]) -> Value {
    Value::Object(
        tags.iter()
            .map(|t| (t.key.clone(), json!(t.value)))
            .collect(),
    )
}

pub async fn run(ctx: &Ctx, command: ExperimentsCommand) -> anyhow::Result<()> {
    let client = ctx.client()?;
    match command {
        ExperimentsCommand::List(ExperimentsListArgs { filter, view }) => {
            let mut table = Table::new([
                "experiment_id",
                "name",
                "lifecycle_stage",
                "creation_time",
                "last_update_time",
                "tags",
            ]);
            for e in all(&client, filter, view_type(view)).await? {
                table.push(vec![
                    json!(e.experiment_id),
                    json!(e.name),
                    json!(e.lifecycle_stage),
                    time(Some(e.creation_time)),
                    time(Some(e.last_update_time)),
                    tags_object(&e.tags),
                ]);
            }
            output::print(ctx, &table)
        }
        ExperimentsCommand::Create { name, tags } => {
            let tags: Vec<Tag> = tags
                .into_iter()
                .map(|(key, value)| Tag { key, value })
                .collect();
            let id = client.create_experiment_with_tags(&name, &tags).await?;
            output::done(ctx, &id, json!({"experiment_id": id, "name": name}))
        }
        ExperimentsCommand::Rename {
            experiment,
            new_name,
        } => {
            let e = resolve(&client, &experiment).await?;
            client
                .rename_experiment(&e.experiment_id, &new_name)
                .await?;
            output::done(
                ctx,
                &format!(
                    "renamed experiment {} from {:?} to {new_name:?}",
                    e.experiment_id, e.name
                ),
                json!({"experiment_id": e.experiment_id, "name": new_name}),
            )
        }
        ExperimentsCommand::Delete { experiment } => {
            let e = resolve(&client, &experiment).await?;
            client.delete_experiment(&e.experiment_id).await?;
            output::done(
                ctx,
                &format!("deleted experiment {} ({:?})", e.experiment_id, e.name),
                json!({"experiment_id": e.experiment_id, "lifecycle_stage": "deleted"}),
            )
        }
        ExperimentsCommand::Restore { experiment } => {
            let e = resolve(&client, &experiment).await?;
            client.restore_experiment(&e.experiment_id).await?;
            output::done(
                ctx,
                &format!("restored experiment {} ({:?})", e.experiment_id, e.name),
                json!({"experiment_id": e.experiment_id, "lifecycle_stage": "active"}),
            )
        }
        ExperimentsCommand::Tag {
            experiment,
            set,
            delete,
        } => {
            if set.is_empty() && delete.is_empty() {
                return Err(crate::ctx::UsageError(
                    "name tags to set (KEY=VALUE) or --delete KEY".into(),
                )
                .into());
            }
            let e = resolve(&client, &experiment).await?;
            for (k, v) in &set {
                client.set_experiment_tag(&e.experiment_id, k, v).await?;
            }
            for k in &delete {
                client.delete_experiment_tag(&e.experiment_id, k).await?;
            }
            let after = client.get_experiment(&e.experiment_id).await?;
            output::done(
                ctx,
                &format!(
                    "experiment {} now has {} tags",
                    e.experiment_id,
                    after.tags.len()
                ),
                json!({"experiment_id": e.experiment_id, "tags": tags_object(&after.tags)}),
            )
        }
    }
}
