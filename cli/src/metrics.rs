//! `cairn metrics history`: every point of some metrics of some runs, as a table or as a
//! chart drawn in the terminal, downsampled so that each column keeps its minimum and maximum.

use crate::args::{Format, HistoryArgs, MetricsCommand};
use crate::ctx::Ctx;
use crate::output::{self, number, time, Table};
use serde_json::json;

/// One line of the chart: a run's metric.
pub struct Series {
    pub label: String,
    pub points: Vec<(i64, f64)>,
}

const GLYPHS: [char; 8] = ['●', '▲', '■', '◆', '×', '+', 'o', '*'];
const COLOURS: [u8; 6] = [36, 33, 35, 32, 31, 34];

fn short(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e5 || v.abs() < 1e-3) {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

/// Draws series on a `width` × `height` grid. Points are bucketed by step into columns;
/// each column draws its series from the minimum to the maximum of the points in it,
/// so spikes survive downsampling.
pub fn chart(series: &[Series], width: usize, height: usize, colour: bool) -> String {
    let finite = || {
        series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|(_, v)| v.is_finite())
    };
    let (Some(xmin), Some(xmax)) = (finite().map(|p| p.0).min(), finite().map(|p| p.0).max())
    else {
        return "no finite points to draw\n".into();
    };
    let ymin = finite().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let ymax = finite().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let (width, height) = (width.max(8), height.max(4));
    let col = |x: i64| -> usize {
        if xmax == xmin {
            0
        } else {
            (((x - xmin) as f64 / (xmax - xmin) as f64) * (width - 1) as f64).round() as usize
        }
    };
    let row = |y: f64| -> usize {
        if ymax == ymin {
            height / 2
        } else {
            // Row 0 is the top.
            ((ymax - y) / (ymax - ymin) * (height - 1) as f64).round() as usize
        }
    };
    let mut grid: Vec<Vec<Option<usize>>> = vec![vec![None; width]; height];
    for (i, s) in series.iter().enumerate() {
        let mut lo = vec![f64::INFINITY; width];
        let mut hi = vec![f64::NEG_INFINITY; width];
        for &(x, y) in s.points.iter().filter(|(_, v)| v.is_finite()) {
            let c = col(x);
            lo[c] = lo[c].min(y);
            hi[c] = hi[c].max(y);
        }
        for c in 0..width {
            if lo[c].is_finite() {
                for cell in grid.iter_mut().take(row(lo[c]) + 1).skip(row(hi[c])) {
                    cell[c] = Some(i);
                }
            }
        }
    }
    let labels = [
        (0, ymax),
        (height / 2, (ymax + ymin) / 2.0),
        (height - 1, ymin),
    ];
    let margin = labels
        .iter()
        .map(|(_, v)| short(*v).len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (r, cells) in grid.iter().enumerate() {
        let label = labels
            .iter()
            .find(|(lr, _)| *lr == r)
            .map(|(_, v)| short(*v))
            .unwrap_or_default();
        out.push_str(&format!("{label:>margin$} ┤"));
        for cell in cells {
            match cell {
                Some(i) if colour => out.push_str(&format!(
                    "\x1b[{}m{}\x1b[0m",
                    COLOURS[i % COLOURS.len()],
                    GLYPHS[i % GLYPHS.len()]
                )),
                Some(i) => out.push(GLYPHS[i % GLYPHS.len()]),
                None => out.push(' '),
            }
        }
        out.push('\n');
    }
    out.push_str(&format!("{:>margin$} └{}\n", "", "─".repeat(width)));
    let (left, right) = (format!("step {xmin}"), xmax.to_string());
    out.push_str(&format!(
        "{:>margin$}  {left}{right:>w$}\n",
        "",
        w = width.saturating_sub(left.len())
    ));
    for (i, s) in series.iter().enumerate() {
        out.push_str(&format!("  {} {}\n", GLYPHS[i % GLYPHS.len()], s.label));
    }
    out
}

pub async fn run(ctx: &Ctx, command: MetricsCommand) -> anyhow::Result<()> {
    let MetricsCommand::History(args) = command;
    history(ctx, args).await
}

async fn history(ctx: &Ctx, args: HistoryArgs) -> anyhow::Result<()> {
    let client = ctx.client()?;
    let mut table = Table::new(["run_id", "run_name", "key", "step", "value", "timestamp"]);
    let mut series = Vec::new();
    for id in args
        .runs
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        let run = client.get_run(id).await?;
        for key in &args.keys {
            let points = client.get_metric_history(id, key).await?;
            let mut line: Vec<(i64, f64)> = Vec::with_capacity(points.len());
            for m in &points {
                table.push(vec![
                    json!(id),
                    json!(run.info.run_name),
                    json!(key),
                    json!(m.step),
                    number(m.value),
                    time(Some(m.timestamp)),
                ]);
                line.push((m.step, m.value));
            }
            line.sort_by_key(|p| p.0);
            series.push(Series {
                label: format!("{} {key}", run.info.run_name),
                points: line,
            });
        }
    }
    if args.chart && ctx.format == Format::Table {
        use std::io::Write as _;
        write!(
            std::io::stdout(),
            "{}",
            chart(&series, args.width, args.height, ctx.color)
        )?;
        return Ok(());
    }
    output::print(ctx, &table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spike_between_columns_survives_downsampling() {
        let mut points: Vec<(i64, f64)> = (0..1000).map(|s| (s, 1.0)).collect();
        points[501].1 = 9.0;
        let drawn = chart(
            &[Series {
                label: "loss".into(),
                points,
            }],
            20,
            5,
            false,
        );
        let top = drawn.lines().next().unwrap();
        assert_eq!(top.matches('●').count(), 1, "{drawn}");
        assert!(top.starts_with('9'), "{drawn}");
    }

    #[test]
    fn each_series_has_its_glyph_and_a_legend_line() {
        let a = Series {
            label: "a loss".into(),
            points: vec![(0, 1.0), (10, 0.0)],
        };
        let b = Series {
            label: "b loss".into(),
            points: vec![(0, 0.0), (10, 1.0)],
        };
        let drawn = chart(&[a, b], 11, 5, false);
        assert!(
            drawn.contains("● a loss") && drawn.contains("▲ b loss"),
            "{drawn}"
        );
        let first = drawn.lines().next().unwrap();
        assert!(first.contains('●') && first.contains('▲'), "{drawn}");
    }
}
