//! `cairn artifacts ls|get|put|verify`: a run's files from a terminal.

use crate::args::ArtifactsCommand;
use crate::ctx::Ctx;
use crate::output::{self, Table};
use crate::transfer;
use serde_json::json;
use std::path::PathBuf;

pub async fn run(ctx: &Ctx, command: ArtifactsCommand) -> anyhow::Result<()> {
    let client = ctx.client()?;
    match command {
        ArtifactsCommand::Ls {
            run,
            path,
            recursive,
        } => {
            let mut table = Table::new(["path", "is_dir", "file_size"]);
            let mut stack = vec![path];
            let mut entries = Vec::new();
            while let Some(dir) = stack.pop() {
                for f in client.list_artifacts(&run, dir.as_deref()).await? {
                    if recursive && f.is_dir {
                        stack.push(Some(f.path.clone()));
                    }
                    entries.push(f);
                }
            }
            entries.sort_by(|a, b| a.path.cmp(&b.path));
            for f in entries {
                table.push(vec![json!(f.path), json!(f.is_dir), json!(f.file_size)]);
            }
            output::print(ctx, &table)
        }
        ArtifactsCommand::Get { run, path, dest } => {
            let run = client.get_run(&run).await?;
            let name = path
                .trim_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("artifact")
                .to_owned();
            let dest = dest.unwrap_or_else(|| PathBuf::from(name));
            let got = transfer::download(&client, &run, &path, &dest).await?;
            let mut table = Table::new(["file", "bytes", "sha256"]);
            for (file, bytes, sha) in got {
                table.push(vec![json!(file), json!(bytes), json!(sha)]);
            }
            output::print(ctx, &table)
        }
        ArtifactsCommand::Put {
            run,
            local,
            artifact_path,
        } => {
            let run = client.get_run(&run).await?;
            let sent = transfer::upload(&client, &run, &local, artifact_path.as_deref()).await?;
            let mut table = Table::new(["path", "bytes", "sha256"]);
            for (path, bytes, sha) in sent {
                table.push(vec![json!(path), json!(bytes), json!(sha)]);
            }
            output::print(ctx, &table)
        }
        ArtifactsCommand::Verify { run } => {
            let run = match run {
                Some(r) => Some(client.get_run(&r).await?),
                None => None,
            };
            let (ok, bad) = client.verify_artifacts(run.as_ref()).await?;
            output::done(
                ctx,
                &if ok {
                    "every stored blob matches its SHA-256".to_owned()
                } else {
                    format!(
                        "{} blobs do not match their SHA-256: {}",
                        bad.len(),
                        bad.join(", ")
                    )
                },
                json!({"ok": ok, "damaged": bad}),
            )?;
            anyhow::ensure!(ok, "damaged artifacts");
            Ok(())
        }
    }
}
