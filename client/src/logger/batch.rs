//! What the logger queues and sends: a log-batch within the server's limits, or the
//! run's final status, each with a sequence number that orders it and marks it sent.

use cairn_schema::{Metric, Param, Tag};
use serde::{Deserialize, Serialize};

/// The server's limits for one log-batch request.
pub const MAX_METRICS: usize = 1000;
/// Params a log-batch request may carry.
pub const MAX_PARAMS: usize = 100;
/// Tags a log-batch request may carry.
pub const MAX_TAGS: usize = 100;
/// Metrics, params and tags a log-batch request may carry together.
pub const MAX_ENTRIES: usize = 1000;

/// Metrics, params and tags that go in one log-batch request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// Metric points.
    #[serde(default)]
    pub metrics: Vec<Metric>,
    /// Params (one value per key).
    #[serde(default)]
    pub params: Vec<Param>,
    /// Tags (the last value per key).
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl Batch {
    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.metrics.is_empty() && self.params.is_empty() && self.tags.is_empty()
    }

    fn entries(&self) -> usize {
        self.metrics.len() + self.params.len() + self.tags.len()
    }

    /// Whether one more entry of any kind could still exceed a limit, so the batch
    /// must be sent before taking another.
    pub fn is_full(&self) -> bool {
        self.metrics.len() >= MAX_METRICS
            || self.params.len() >= MAX_PARAMS
            || self.tags.len() >= MAX_TAGS
            || self.entries() >= MAX_ENTRIES
    }

    /// Adds a param unless the same key and value is already here. Returns false, adding
    /// nothing, when the key is here with another value: that change belongs in a batch of
    /// its own, so that the server's refusal of it costs no other entry.
    pub fn add_param(&mut self, p: Param) -> bool {
        match self.params.iter().find(|q| q.key == p.key) {
            Some(q) => q.value == p.value,
            None => {
                self.params.push(p);
                true
            }
        }
    }

    /// Sets a tag; a later value for a key replaces an earlier one in the same batch.
    pub fn set_tag(&mut self, t: Tag) {
        match self.tags.iter_mut().find(|q| q.key == t.key) {
            Some(q) => q.value = t.value,
            None => self.tags.push(t),
        }
    }

    /// The pieces to send one by one when the server refused the whole: all metrics
    /// together, then each param and each tag alone, so that one bad entry loses only itself.
    pub fn split(&self) -> Vec<Batch> {
        let mut parts = Vec::new();
        if !self.metrics.is_empty() {
            parts.push(Batch {
                metrics: self.metrics.clone(),
                ..Batch::default()
            });
        }
        for p in &self.params {
            parts.push(Batch {
                params: vec![p.clone()],
                ..Batch::default()
            });
        }
        for t in &self.tags {
            parts.push(Batch {
                tags: vec![t.clone()],
                ..Batch::default()
            });
        }
        parts
    }
}

/// One queued unit of work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Item {
    /// A log-batch request.
    Batch(Batch),
    /// The run's end: its status and end time.
    End {
        /// `FINISHED`, `FAILED` or `KILLED`.
        status: String,
        /// Milliseconds since the epoch.
        end_time: i64,
    },
}

/// An item with its place in the run's sequence (from 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Increases by one per item; an item is sent once every smaller one was.
    pub seq: u64,
    /// The run it belongs to.
    pub run_id: String,
    /// What to send.
    #[serde(flatten)]
    pub item: Item,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(k: &str, v: &str) -> Param {
        Param {
            key: k.into(),
            value: v.into(),
        }
    }

    #[test]
    fn a_batch_is_full_at_the_servers_limits() {
        let mut b = Batch::default();
        for i in 0..MAX_PARAMS {
            assert!(!b.is_full());
            assert!(b.add_param(param(&format!("p{i}"), "v")));
        }
        assert!(b.is_full());
    }

    #[test]
    fn a_repeated_param_is_kept_once_and_a_changed_one_is_left_out() {
        let mut b = Batch::default();
        assert!(b.add_param(param("lr", "0.1")));
        assert!(b.add_param(param("lr", "0.1")));
        assert!(!b.add_param(param("lr", "0.2")));
        assert_eq!(b.params, vec![param("lr", "0.1")]);
    }

    #[test]
    fn a_later_tag_value_replaces_an_earlier_one() {
        let mut b = Batch::default();
        for v in ["a", "b"] {
            b.set_tag(Tag {
                key: "phase".into(),
                value: v.into(),
            });
        }
        assert_eq!(b.tags.len(), 1);
        assert_eq!(b.tags[0].value, "b");
    }

    #[test]
    fn entries_round_trip_through_a_spool_line() {
        let e = Entry {
            seq: 7,
            run_id: "r".into(),
            item: Item::End {
                status: "FINISHED".into(),
                end_time: 5,
            },
        };
        let line = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<Entry>(&line).unwrap(), e);
    }
}
