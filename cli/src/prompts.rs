//! `cairn prompts ...`: prompts as versioned objects in MLflow's prompt registry
//! (registered models tagged `mlflow.prompt.is_prompt`, the template in each version's
//! `mlflow.prompt.text` tag), addressed as `NAME`, `NAME/VERSION` or `NAME@ALIAS`.

use crate::args::PromptsCommand;
use crate::ctx::{Ctx, NotFound, UsageError};
use crate::output::{self, time, Table};
use cairn_client::schema::registry::ModelVersion;
use cairn_client::schema::Tag;
use cairn_client::{Client, NewVersion, SearchRegistry};
use serde_json::json;

const IS_PROMPT: &str = "mlflow.prompt.is_prompt";
const TEXT: &str = "mlflow.prompt.text";
const KIND: &str = "_mlflow_prompt_type";
/// The source MLflow gives prompt versions.
const SOURCE: &str = "prompt-template";

fn tag(key: &str, value: &str) -> Tag {
    Tag {
        key: key.into(),
        value: value.into(),
    }
}

fn template(v: &ModelVersion) -> String {
    v.tags
        .iter()
        .find(|t| t.key == TEXT)
        .map(|t| t.value.clone())
        .unwrap_or_default()
}

/// The version a reference names: `NAME`, `NAME/VERSION` or `NAME@ALIAS`.
async fn resolve(client: &Client, reference: &str) -> anyhow::Result<ModelVersion> {
    if let Some((name, alias)) = reference.split_once('@') {
        return by_alias(client, name, alias).await;
    }
    if let Some((name, version)) = reference.rsplit_once('/') {
        if version.bytes().all(|b| b.is_ascii_digit()) && !version.is_empty() {
            return Ok(client.get_model_version(name, version).await?);
        }
    }
    latest(client, reference).await
}

/// The newest version of a prompt. Version searches hide prompts unless the filter
/// names the prompt tag, so this one names it.
async fn latest(client: &Client, name: &str) -> anyhow::Result<ModelVersion> {
    let quoted = if name.contains('\'') {
        format!("\"{name}\"")
    } else {
        format!("'{name}'")
    };
    let page = client
        .search_model_versions(&SearchRegistry {
            filter: Some(format!("name = {quoted} AND tags.`{IS_PROMPT}` = 'true'")),
            order_by: vec!["version_number DESC".into()],
            max_results: Some(1),
            ..SearchRegistry::default()
        })
        .await?;
    page.items
        .into_iter()
        .next()
        .ok_or_else(|| NotFound(format!("prompt {name:?} has no versions")).into())
}

/// The version an alias points at. MLflow answers an unknown alias with a 400, not a
/// 404; here it is "not found" (exit 3) like any other name that does not exist.
async fn by_alias(client: &Client, name: &str, alias: &str) -> anyhow::Result<ModelVersion> {
    match client.get_version_by_alias(name, alias).await {
        Err(e) if e.code() == Some("INVALID_PARAMETER_VALUE") => {
            let model = client.get_registered_model(name).await?;
            if model.aliases.iter().any(|a| a.alias == alias) {
                Err(e.into())
            } else {
                Err(NotFound(format!("{name} has no alias {alias:?}")).into())
            }
        }
        other => Ok(other?),
    }
}

/// A version of `name` given as a number or `@alias`.
async fn version_of(client: &Client, name: &str, v: &str) -> anyhow::Result<ModelVersion> {
    match v.strip_prefix('@') {
        Some(alias) => by_alias(client, name, alias).await,
        None => Ok(client.get_model_version(name, v).await?),
    }
}

pub async fn run(ctx: &Ctx, command: PromptsCommand) -> anyhow::Result<()> {
    let client = ctx.client()?;
    match command {
        PromptsCommand::Register {
            name,
            template: text,
            file,
            message,
            tags,
        } => {
            let text = match (text, file) {
                (Some(t), _) => t,
                (None, Some(f)) => std::fs::read_to_string(&f)
                    .map_err(|e| UsageError(format!("{}: {e}", f.display())))?,
                (None, None) => return Err(UsageError("give --template or --file".into()).into()),
            };
            match client
                .create_registered_model(&name, None, &[tag(IS_PROMPT, "true")])
                .await
            {
                Ok(_) => {}
                Err(e) if e.code() == Some("RESOURCE_ALREADY_EXISTS") => {
                    let model = client.get_registered_model(&name).await?;
                    if !model
                        .tags
                        .iter()
                        .any(|t| t.key == IS_PROMPT && t.value.eq_ignore_ascii_case("true"))
                    {
                        return Err(UsageError(format!(
                            "{name:?} is a registered model, not a prompt"
                        ))
                        .into());
                    }
                }
                Err(e) => return Err(e.into()),
            }
            let mut version_tags =
                vec![tag(IS_PROMPT, "true"), tag(TEXT, &text), tag(KIND, "text")];
            version_tags.extend(tags.into_iter().map(|(k, v)| tag(&k, &v)));
            let v = client
                .create_model_version(
                    &name,
                    &NewVersion {
                        source: SOURCE.into(),
                        run_id: None,
                        description: message,
                        tags: version_tags,
                    },
                )
                .await?;
            output::done(
                ctx,
                &format!("registered prompt {name} version {}", v.version),
                json!({"name": name, "version": v.version}),
            )
        }
        PromptsCommand::List => {
            let mut query = SearchRegistry {
                filter: Some(format!("tags.`{IS_PROMPT}` = 'true'")),
                max_results: Some(1000),
                ..SearchRegistry::default()
            };
            let mut table = Table::new(["name", "aliases", "last_updated", "description"]);
            loop {
                let page = client.search_registered_models(&query).await?;
                for m in page.items {
                    let aliases: Vec<String> = m
                        .aliases
                        .iter()
                        .map(|a| format!("{}={}", a.alias, a.version))
                        .collect();
                    table.push(vec![
                        json!(m.name),
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
        PromptsCommand::Show { reference } => {
            let v = resolve(&client, &reference).await?;
            let doc = json!({
                "name": v.name, "version": v.version, "aliases": v.aliases, "message": v.description,
                "created": time(Some(v.creation_timestamp)), "template": template(&v),
            });
            if ctx.format == crate::args::Format::Table {
                outln!(
                    "{} version {}{}",
                    v.name,
                    v.version,
                    if v.aliases.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", v.aliases.join(", "))
                    }
                )?;
                if !v.description.is_empty() {
                    outln!("message: {}", v.description)?;
                }
                outln!("---\n{}", template(&v))?;
                return Ok(());
            }
            output::print_object(ctx, &doc)
        }
        PromptsCommand::Diff { name, from, to } => {
            let (a, b) = (
                version_of(&client, &name, &from).await?,
                version_of(&client, &name, &to).await?,
            );
            let (ta, tb) = (template(&a), template(&b));
            let diff = similar::TextDiff::from_lines(&ta, &tb);
            let unified = diff
                .unified_diff()
                .context_radius(3)
                .header(
                    &format!("{name}/{}", a.version),
                    &format!("{name}/{}", b.version),
                )
                .to_string();
            if ctx.format == crate::args::Format::Table {
                if unified.is_empty() {
                    outln!(
                        "{name} versions {} and {} have the same template",
                        a.version,
                        b.version
                    )?;
                }
                for line in unified.lines() {
                    let colour = match line.chars().next() {
                        Some('+') if !line.starts_with("+++") => Some(32),
                        Some('-') if !line.starts_with("---") => Some(31),
                        _ => None,
                    };
                    match colour {
                        Some(c) if ctx.color => outln!("\x1b[{c}m{line}\x1b[0m")?,
                        _ => outln!("{line}")?,
                    }
                }
                return Ok(());
            }
            output::print_object(
                ctx,
                &json!({"name": name, "from": a.version, "to": b.version, "changed": ta != tb, "diff": unified}),
            )
        }
        PromptsCommand::Alias {
            name,
            alias,
            version,
        } => {
            client.set_alias(&name, &alias, &version).await?;
            output::done(
                ctx,
                &format!("{name}@{alias} -> version {version}"),
                json!({"name": name, "alias": alias, "version": version}),
            )
        }
    }
}
