//! `cairn sync`: replays the spools Rust loggers left behind to the server.

use crate::args::SyncArgs;
use cairn_client::logger::{default_spool_dir, sync_spool_dir};

pub async fn sync(ctx: &crate::ctx::Ctx, args: SyncArgs) -> anyhow::Result<()> {
    let dir = args.spool_dir.unwrap_or_else(default_spool_dir);
    let client = ctx.client()?;
    let files = sync_spool_dir(&client, &dir).await?;
    if files.is_empty() {
        outln!("nothing to sync in {}", dir.display())?;
        return Ok(());
    }
    let mut unreachable = 0;
    for f in &files {
        match &f.left {
            Some(why) => {
                outln!("{}: left in place, {why}", f.path.display())?;
                if !why.starts_with("in use") {
                    unreachable += 1;
                }
            }
            None => outln!(
                "{}: sent {} entries ({} metric points), deleted",
                f.path.display(),
                f.entries,
                f.metrics
            )?,
        }
        for r in &f.rejected {
            outln!("  refused by the server: {r}")?;
        }
    }
    if unreachable > 0 {
        return Err(crate::ctx::ServerAway(format!(
            "{unreachable} spool(s) could not be delivered; run `cairn sync` again once the server answers"
        ))
        .into());
    }
    Ok(())
}
