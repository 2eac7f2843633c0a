//! `cairn eval ...`: scoring outputs with the client crate's metrics.

use crate::args::{EvalCasesArgs, EvalDiffArgs, EvalScoreArgs, MetricArg};
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

/// One example read from the prediction and reference files.
struct Example {
    id: Option<String>,
    input: String,
    output: String,
    reference: String,
    latency_ms: Option<f64>,
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    cost_usd: Option<f64>,
    model: Option<String>,
    cached_prompt_tokens: Option<u64>,
}

/// Lines of a text file, or the objects of a JSONL file (`.jsonl`, or every line an object).
fn read_lines(path: &std::path::Path) -> anyhow::Result<Vec<serde_json::Value>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let lines: Vec<&str> = text.lines().collect();
    let jsonl = path.extension().is_some_and(|e| e == "jsonl")
        || (!lines.is_empty() && lines.iter().all(|l| l.trim_start().starts_with('{')));
    lines
        .iter()
        .enumerate()
        .map(|(n, l)| {
            if jsonl {
                serde_json::from_str(l)
                    .with_context(|| format!("{} line {} is not JSON", path.display(), n + 1))
            } else {
                Ok(serde_json::Value::String((*l).to_owned()))
            }
        })
        .collect()
}

fn examples(args: &EvalScoreArgs) -> anyhow::Result<Vec<Example>> {
    let preds = read_lines(&args.predictions)?;
    let refs = read_lines(&args.references)?;
    anyhow::ensure!(
        preds.len() == refs.len(),
        "{} has {} examples but {} has {}",
        args.predictions.display(),
        preds.len(),
        args.references.display(),
        refs.len()
    );
    let text = |v: &serde_json::Value, key: &str| -> String {
        match v {
            serde_json::Value::String(s) => s.clone(),
            other => other
                .get(key)
                .and_then(|x| x.as_str())
                .unwrap_or_default()
                .to_owned(),
        }
    };
    Ok(preds
        .iter()
        .zip(&refs)
        .map(|(p, r)| Example {
            id: p.get("id").map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string())
            }),
            input: p
                .get("input")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned(),
            output: if p.get("prediction").is_some() {
                text(p, "prediction")
            } else {
                text(p, "output")
            },
            reference: text(r, "reference"),
            latency_ms: p.get("latency_ms").and_then(|v| v.as_f64()),
            prompt_tokens: p.get("prompt_tokens").and_then(|v| v.as_u64()),
            completion_tokens: p.get("completion_tokens").and_then(|v| v.as_u64()),
            cost_usd: p.get("cost_usd").and_then(|v| v.as_f64()),
            model: p.get("model").and_then(|v| v.as_str()).map(str::to_owned),
            cached_prompt_tokens: p.get("cached_prompt_tokens").and_then(|v| v.as_u64()),
        })
        .collect())
}

/// Scores files; prints corpus and mean scores; with `--run`, logs them and the table.
pub async fn score(ctx: &crate::ctx::Ctx, args: EvalScoreArgs) -> anyhow::Result<()> {
    use cairn_client::eval::bleu::{corpus_bleu, sentence_bleu, BleuOptions};
    use cairn_client::eval::chrf::{corpus_chrf, sentence_chrf, ChrfOptions};
    use cairn_client::eval::rouge::RougeScorer;
    use cairn_client::eval::table::{aggregates, EvalRow, EvalTable};

    let mut examples = examples(&args)?;
    anyhow::ensure!(!examples.is_empty(), "there are no examples to score");
    if let Some(path) = &args.prices {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let prices = cairn_client::eval::cost::PriceTable::from_json(&text)?;
        for (n, e) in examples.iter_mut().enumerate() {
            if let (None, Some(model)) = (e.cost_usd, &e.model) {
                let usage = cairn_client::eval::cost::Usage {
                    prompt_tokens: e.prompt_tokens.unwrap_or(0),
                    completion_tokens: e.completion_tokens.unwrap_or(0),
                    cached_prompt_tokens: e.cached_prompt_tokens.unwrap_or(0),
                };
                e.cost_usd = Some(
                    prices
                        .cost(model, usage)
                        .with_context(|| format!("pricing example {}", n + 1))?,
                );
            }
        }
    }
    let wants = |m: &str| args.metrics.iter().any(|x| x.eq_ignore_ascii_case(m));
    for m in &args.metrics {
        anyhow::ensure!(
            ["bleu", "chrf", "rouge"].contains(&m.to_ascii_lowercase().as_str()),
            "unknown metric {m:?}"
        );
    }
    let hyps: Vec<&str> = examples.iter().map(|e| e.output.as_str()).collect();
    let streams = vec![examples
        .iter()
        .map(|e| e.reference.as_str())
        .collect::<Vec<_>>()];
    let rouge = RougeScorer::new(&["rouge1", "rouge2", "rougeL"], true)?;
    let mut corpus: Vec<(String, f64)> = Vec::new();
    if wants("bleu") {
        corpus.push((
            "bleu".into(),
            corpus_bleu(&hyps, &streams, &BleuOptions::default())?.score,
        ));
    }
    if wants("chrf") {
        corpus.push((
            "chrf".into(),
            corpus_chrf(&hyps, &streams, &ChrfOptions::default())?.score,
        ));
    }
    let mut rows = Vec::with_capacity(examples.len());
    for e in &examples {
        let mut scores = std::collections::BTreeMap::new();
        if wants("bleu") {
            scores.insert(
                "bleu".into(),
                sentence_bleu(&e.output, &[&e.reference], &BleuOptions::sentence())?.score,
            );
        }
        if wants("chrf") {
            scores.insert(
                "chrf".into(),
                sentence_chrf(&e.output, &[&e.reference], &ChrfOptions::default())?.score,
            );
        }
        if wants("rouge") {
            for (k, v) in rouge.score(&e.reference, &e.output) {
                scores.insert(k, v.fmeasure);
            }
        }
        rows.push(EvalRow {
            input: e.input.clone(),
            output: e.output.clone(),
            reference: e.reference.clone(),
            scores,
            latency_ms: e.latency_ms,
            prompt_tokens: e.prompt_tokens,
            completion_tokens: e.completion_tokens,
            cost_usd: e.cost_usd,
        });
    }
    let mut table = EvalTable::from_rows(&rows);
    if examples.iter().any(|e| e.id.is_some()) {
        table.columns.insert(0, "id".into());
        for (row, e) in table.rows.iter_mut().zip(&examples) {
            row.insert(
                0,
                e.id.clone()
                    .map(serde_json::Value::String)
                    .unwrap_or(serde_json::Value::Null),
            );
        }
    }
    let agg = aggregates(&table);
    let mut metrics: Vec<(String, f64)> = corpus.clone();
    for (k, v) in &agg.mean_scores {
        if k.starts_with("rouge") {
            metrics.push((k.clone(), *v));
        }
    }
    for (k, v) in [
        ("latency_p50_ms", agg.latency_p50_ms),
        ("latency_p95_ms", agg.latency_p95_ms),
        ("latency_p99_ms", agg.latency_p99_ms),
        ("cost_usd_per_1k", agg.cost_per_1k_requests_usd),
    ] {
        if let Some(v) = v {
            metrics.push((k.into(), v));
        }
    }
    if agg.rows_with_cost > 0 {
        metrics.push(("cost_usd_total".into(), agg.total_cost_usd));
    }
    outln!("{:<18} {:>14}", "metric", "value")?;
    for (k, v) in &metrics {
        outln!("{k:<18} {v:>14.4}")?;
    }
    outln!("{:<18} {:>14}", "examples", examples.len())?;
    if let Some(run_id) = &args.run {
        let client = ctx.client()?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis() as i64;
        let points: Vec<cairn_schema::Metric> = metrics
            .iter()
            .map(|(k, v)| cairn_schema::Metric {
                key: k.clone(),
                value: *v,
                timestamp: now,
                step: 0,
                run_id: None,
            })
            .collect();
        client.log_batch(run_id, &points, &[], &[]).await?;
        let run = client.get_run(run_id).await?;
        client
            .upload_artifact(&run, &args.table, table.to_mlflow_json().into_bytes())
            .await?;
        let mut logged: Vec<serde_json::Value> = run
            .data
            .tags
            .iter()
            .find(|t| t.key == "mlflow.loggedArtifacts")
            .and_then(|t| serde_json::from_str(&t.value).ok())
            .unwrap_or_default();
        if !logged.iter().any(|e| e["path"] == args.table.as_str()) {
            logged.push(serde_json::json!({"path": args.table, "type": "table"}));
        }
        client
            .set_tag(
                run_id,
                "mlflow.loggedArtifacts",
                &serde_json::Value::Array(logged).to_string(),
            )
            .await?;
        outln!(
            "logged {} metrics and {} rows to run {run_id} ({})",
            metrics.len(),
            rows.len(),
            args.table
        )?;
    }
    Ok(())
}

/// The eval table of a run: `path`, else the run's first logged table, else eval/results.json.
async fn run_table(
    client: &cairn_client::Client,
    run_id: &str,
    path: Option<&str>,
) -> anyhow::Result<cairn_client::eval::table::EvalTable> {
    let run = client.get_run(run_id).await?;
    let logged = run
        .data
        .tags
        .iter()
        .find(|t| t.key == "mlflow.loggedArtifacts")
        .and_then(|t| serde_json::from_str::<Vec<serde_json::Value>>(&t.value).ok())
        .and_then(|list| {
            list.iter()
                .find(|e| e["type"] == "table")
                .and_then(|e| e["path"].as_str().map(str::to_owned))
        });
    let path = path
        .map(str::to_owned)
        .or(logged)
        .unwrap_or_else(|| "eval/results.json".into());
    let bytes = client
        .download_artifact(&run, &path)
        .await
        .with_context(|| format!("fetching {path} of run {run_id}"))?;
    Ok(cairn_client::eval::table::EvalTable::from_mlflow_json(
        &String::from_utf8_lossy(&bytes),
    )?)
}

/// Summed-statistics scorer of a corpus metric.
type CorpusScore = Box<dyn Fn(&[u64]) -> f64>;

/// Per-row statistics of table A, of table B, and the scorer of their sums.
type CorpusStatistics = (Vec<Vec<u64>>, Vec<Vec<u64>>, CorpusScore);

/// Per-row sufficient statistics of both tables for a corpus-level metric (BLEU, chrF),
/// from their `output` and `reference` columns, and how to score summed statistics.
fn corpus_statistics(
    metric: &str,
    a: &cairn_client::eval::table::EvalTable,
    b: &cairn_client::eval::table::EvalTable,
) -> Option<CorpusStatistics> {
    use cairn_client::eval::bleu::{bleu_statistics, BleuOptions, BleuStats};
    use cairn_client::eval::chrf::{chrf_from_statistics, chrf_statistics, ChrfOptions};
    let texts = |t: &cairn_client::eval::table::EvalTable, col: &str| -> Option<Vec<String>> {
        let c = t.column(col)?;
        Some(
            t.rows
                .iter()
                .map(|r| r[c].as_str().unwrap_or_default().to_owned())
                .collect(),
        )
    };
    let rows = |t: &cairn_client::eval::table::EvalTable| -> Option<Vec<Vec<u64>>> {
        let (outs, refs) = (texts(t, "output")?, texts(t, "reference")?);
        let outs: Vec<&str> = outs.iter().map(String::as_str).collect();
        let refs = vec![refs.iter().map(String::as_str).collect::<Vec<_>>()];
        match metric {
            "bleu" => Some(
                bleu_statistics(&outs, &refs, &BleuOptions::default())
                    .ok()?
                    .iter()
                    .map(BleuStats::to_vec)
                    .collect(),
            ),
            "chrf" => chrf_statistics(&outs, &refs, &ChrfOptions::default()).ok(),
            _ => None,
        }
    };
    let score: CorpusScore = match metric {
        "bleu" => Box::new(|s: &[u64]| {
            BleuStats::from_slice(s)
                .score(&BleuOptions::default())
                .score
        }),
        "chrf" => Box::new(|s: &[u64]| chrf_from_statistics(s, &ChrfOptions::default())),
        _ => return None,
    };
    Some((rows(a)?, rows(b)?, score))
}

/// Pairs two runs' eval tables; prints wins/losses/ties, regressions and a bootstrap.
pub async fn diff(ctx: &crate::ctx::Ctx, args: EvalDiffArgs) -> anyhow::Result<()> {
    use cairn_client::eval::compare::{compare, mean, paired_bootstrap, paired_bootstrap_by};
    use cairn_client::eval::table::NON_SCORE_COLUMNS;

    let client = ctx.client()?;
    let a = run_table(&client, &args.run_a, args.table.as_deref()).await?;
    let b = run_table(&client, &args.run_b, args.table.as_deref()).await?;
    let metrics: Vec<&str> = a
        .columns
        .iter()
        .filter(|c| {
            !NON_SCORE_COLUMNS.contains(&c.as_str()) && c.as_str() != "id" && b.column(c).is_some()
        })
        .filter(|c| a.numbers(c).len() == a.rows.len() || !a.numbers(c).is_empty())
        .map(String::as_str)
        .collect();
    anyhow::ensure!(!metrics.is_empty(), "the two tables share no score column");
    let comparison = compare(&a, &b, &metrics);
    outln!(
        "paired {} examples on `{}`",
        comparison.paired,
        comparison.key_column
    )?;
    if !comparison.only_in_a.is_empty() || !comparison.only_in_b.is_empty() {
        outln!(
            "unpaired: {} only in A, {} only in B",
            comparison.only_in_a.len(),
            comparison.only_in_b.len()
        )?;
    }
    // Row pairs for the bootstrap, keyed the way `compare` keys them.
    let key = comparison.key_column.as_str();
    let pairs: Vec<(usize, usize)> = match (a.column(key), b.column(key)) {
        (Some(ka), Some(kb)) => a
            .rows
            .iter()
            .enumerate()
            .filter_map(|(i, row)| b.rows.iter().position(|r| r[kb] == row[ka]).map(|j| (i, j)))
            .collect(),
        _ => Vec::new(),
    };
    outln!(
        "{:<10} {:>5} {:>6} {:>5} {:>10} {:>22} {:>8}",
        "metric",
        "wins",
        "losses",
        "ties",
        "delta",
        "95% interval",
        "p"
    )?;
    for m in &comparison.metrics {
        // Corpus BLEU and chrF are not means of sentence scores: resample rows, sum their
        // statistics, and score the sums.
        let corpus = corpus_statistics(&m.metric, &a, &b);
        let result = match &corpus {
            Some((sa, sb, score)) => {
                paired_bootstrap_by(pairs.len(), args.resamples, args.seed, |sample| {
                    let rows: Vec<usize> = match sample {
                        Some(s) => s.to_vec(),
                        None => (0..pairs.len()).collect(),
                    };
                    let width = sa.first().map(Vec::len).unwrap_or(0);
                    let (mut ta, mut tb) = (vec![0u64; width], vec![0u64; width]);
                    for &r in &rows {
                        ta.iter_mut()
                            .zip(&sa[pairs[r].0])
                            .for_each(|(t, v)| *t += v);
                        tb.iter_mut()
                            .zip(&sb[pairs[r].1])
                            .for_each(|(t, v)| *t += v);
                    }
                    score(&tb) - score(&ta)
                })
            }
            None => {
                let (ca, cb) = (a.column(&m.metric), b.column(&m.metric));
                let (xs, ys): (Vec<f64>, Vec<f64>) = match (ca, cb) {
                    (Some(ca), Some(cb)) => pairs
                        .iter()
                        .filter_map(|&(i, j)| {
                            Some((a.rows[i][ca].as_f64()?, b.rows[j][cb].as_f64()?))
                        })
                        .unzip(),
                    _ => (Vec::new(), Vec::new()),
                };
                paired_bootstrap(&xs, &ys, mean, args.resamples, args.seed)
            }
        };
        let name = if corpus.is_some() {
            format!("{}*", m.metric)
        } else {
            m.metric.clone()
        };
        match result {
            Ok(bs) => outln!(
                "{:<10} {:>5} {:>6} {:>5} {:>+10.4} {:>22} {:>8.4}",
                name,
                m.wins,
                m.losses,
                m.ties,
                bs.delta,
                format!("[{:+.4}, {:+.4}]", bs.ci_low, bs.ci_high),
                bs.p_value
            )?,
            Err(_) => outln!(
                "{:<10} {:>5} {:>6} {:>5} {:>10}",
                name,
                m.wins,
                m.losses,
                m.ties,
                "-"
            )?,
        }
    }
    if comparison
        .metrics
        .iter()
        .any(|m| m.metric == "bleu" || m.metric == "chrf")
    {
        outln!("*: wins/losses/ties per example by sentence score; delta, interval and p on the corpus score")?;
    }
    for m in &comparison.metrics {
        for r in m.regressions.iter().take(3) {
            outln!(
                "regression {}: {:+.4} ({:.4} -> {:.4}) on {:?}",
                m.metric,
                r.delta,
                r.a,
                r.b,
                r.input
            )?;
        }
    }
    Ok(())
}
