//! Metric history: every point of a key, paged, and evenly sampled intervals across runs.

use super::experiments::page_end;
use super::run_reads::metric_from_row;
use crate::store::{BulkIntervalQuery, Page, StoreResult};
use cairn_schema::Metric;
use rusqlite::{params, Connection};

/// One page of a run's metric history, read in the primary key's order.
pub(super) const HISTORY: &str = "SELECT m.key, m.value, m.is_nan, m.timestamp, m.step FROM metrics m JOIN runs r ON r.id = m.run
     WHERE r.run_uuid = ? AND m.key = ? ORDER BY m.timestamp, m.step, m.value LIMIT ? OFFSET ?";

/// All points, ordered by timestamp, step, value. Unknown runs or keys give an empty page.
pub fn history(
    conn: &Connection,
    run_id: &str,
    key: &str,
    max_results: Option<i64>,
    offset: i64,
) -> StoreResult<Page<Metric>> {
    let limit = max_results.map(|m| m.saturating_add(1)).unwrap_or(-1);
    let mut items: Vec<Metric> = conn
        .prepare_cached(HISTORY)?
        .query_map(params![run_id, key, limit, offset], metric_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let next_offset = match max_results {
        Some(max) => page_end(&mut items, max, offset),
        None => None,
    };
    Ok(Page { items, next_offset })
}

/// Per run, at most `max_results` points sampled evenly by position, first and last kept.
pub fn bulk_interval(conn: &Connection, query: &BulkIntervalQuery) -> StoreResult<Vec<Metric>> {
    let (start, end) = query.steps.unwrap_or((i64::MIN, i64::MAX));
    let mut stmt = conn.prepare_cached(
        "SELECT m.key, m.value, m.is_nan, m.timestamp, m.step FROM metrics m JOIN runs r ON r.id = m.run
         WHERE r.run_uuid = ? AND m.key = ? AND m.step BETWEEN ? AND ? ORDER BY m.step, m.timestamp, m.value",
    )?;
    let mut out = Vec::new();
    for run_id in &query.run_ids {
        let points: Vec<Metric> = stmt
            .query_map(params![run_id, query.key, start, end], metric_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        for index in sample_indices(points.len(), query.max_results as usize) {
            let mut m = points[index].clone();
            m.run_id = Some(run_id.clone());
            out.push(m);
        }
    }
    Ok(out)
}

/// Positions of `n` points to keep when at most `max` fit: evenly spaced, always the
/// last, and the first too when `max > 1`.
pub fn sample_indices(n: usize, max: usize) -> Vec<usize> {
    if n <= max {
        return (0..n).collect();
    }
    if max <= 1 {
        return if n == 0 || max == 0 {
            Vec::new()
        } else {
            vec![n - 1]
        };
    }
    let mut picked: Vec<usize> = (0..max).map(|i| i * (n - 1) / (max - 1)).collect();
    picked.dedup();
    picked
}

#[cfg(test)]
mod tests {
    use super::sample_indices;

    #[test]
    fn sampling_keeps_everything_when_it_fits() {
        assert_eq!(sample_indices(3, 5), vec![0, 1, 2]);
    }

    #[test]
    fn sampling_keeps_first_and_last_and_spaces_the_rest() {
        let s = sample_indices(101, 5);
        assert_eq!(s, vec![0, 25, 50, 75, 100]);
    }

    #[test]
    fn sampling_one_point_keeps_the_last() {
        assert_eq!(sample_indices(10, 1), vec![9]);
    }
}
