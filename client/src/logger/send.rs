//! Sending one queued entry: a log-batch (split entry by entry when the server refuses
//! the whole) or the run's end.

use super::batch::{Batch, Entry, Item};
use crate::{Client, Error};
use cairn_schema::RunStatus;

/// An entry the server has dealt with, and what of it the server refused for good.
#[derive(Debug, Default)]
pub(crate) struct Sent {
    /// One message per refused piece.
    pub rejected: Vec<String>,
}

async fn send_batch(client: &Client, run_id: &str, b: &Batch) -> Result<(), Error> {
    client
        .log_batch(run_id, &b.metrics, &b.params, &b.tags)
        .await
}

/// Sends an entry. `Err` only when the server or network failed (the entry is to be
/// tried again later); a refusal (4xx) is final and reported in [`Sent::rejected`].
pub(crate) async fn send_entry(client: &Client, entry: &Entry) -> Result<Sent, Error> {
    let mut sent = Sent::default();
    match &entry.item {
        Item::Batch(b) => match send_batch(client, &entry.run_id, b).await {
            Ok(()) => {}
            Err(e) if e.is_transient() => return Err(e),
            Err(_) => {
                for part in b.split() {
                    match send_batch(client, &entry.run_id, &part).await {
                        Ok(()) => {}
                        Err(e) if e.is_transient() => return Err(e),
                        Err(e) => sent.rejected.push(describe(&part, &e)),
                    }
                }
            }
        },
        Item::End { status, end_time } => {
            let status = RunStatus::parse(status).unwrap_or(RunStatus::Finished);
            match client
                .update_run(&entry.run_id, Some(status), Some(*end_time), None)
                .await
            {
                Ok(_) => {}
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => sent.rejected.push(format!("ending the run: {e}")),
            }
        }
    }
    Ok(sent)
}

fn describe(part: &Batch, e: &Error) -> String {
    if let Some(p) = part.params.first() {
        format!("param {:?}: {e}", p.key)
    } else if let Some(t) = part.tags.first() {
        format!("tag {:?}: {e}", t.key)
    } else {
        format!("{} metric points: {e}", part.metrics.len())
    }
}
