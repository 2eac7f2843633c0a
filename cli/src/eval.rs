//! `cairn eval ...`: scoring outputs with the client crate's metrics.

use crate::args::{EvalCasesArgs, MetricArg};
use anyhow::Context;
use cairn_client::eval::cases::{score_case, Metric};
use std::io::{BufRead, BufReader, Write};

/// Scores every case of a JSONL file, one JSON line out per case, in order. A malformed
/// case stops the run with its line number (nothing is guessed).
pub fn cases(args: EvalCasesArgs) -> anyhow::Result<()> {
    let metric = match args.metric {
        MetricArg::Bleu => Metric::Bleu,
        MetricArg::Chrf => Metric::Chrf,
        MetricArg::Rouge => Metric::Rouge,
    };
    let input: Box<dyn BufRead> = if args.file.as_os_str() == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        let file = std::fs::File::open(&args.file)
            .with_context(|| format!("opening {}", args.file.display()))?;
        Box::new(BufReader::new(file))
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for (n, line) in input.lines().enumerate() {
        let line = line.with_context(|| format!("reading line {}", n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let case: serde_json::Value =
            serde_json::from_str(&line).with_context(|| format!("line {} is not JSON", n + 1))?;
        let scored = score_case(metric, &case).with_context(|| format!("line {}", n + 1))?;
        match writeln!(out, "{scored}") {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            other => other?,
        }
    }
    match out.flush() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
