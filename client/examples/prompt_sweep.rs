//! A prompt-strategy sweep: one run per strategy, each scoring its outputs with BLEU,
//! chrF and ROUGE-L, logging cost and latency, and an eval table MLflow's UI can show.
//!
//! `MLFLOW_TRACKING_URI=http://127.0.0.1:5000 cargo run -p cairn-client --example prompt_sweep`

use cairn_client::blocking::Client;
use cairn_client::eval::bleu::{corpus_bleu, sentence_bleu, BleuOptions};
use cairn_client::eval::chrf::{corpus_chrf, ChrfOptions};
use cairn_client::eval::rouge::RougeScorer;
use cairn_client::eval::table::{EvalRow, EvalTable};
use cairn_client::{Config, Filter, OrderBy, SearchRuns};
use std::collections::BTreeMap;

const REFERENCES: [&str; 4] = [
    "The invoice was sent to the customer on Monday.",
    "Restart the router and wait two minutes before reconnecting.",
    "Your refund will arrive within five business days.",
    "The meeting has been moved to Thursday at 3 pm.",
];

/// What each strategy "answers": a stand-in for calling a model.
fn answer(strategy: &str, reference: &str) -> String {
    let words: Vec<&str> = reference.split(' ').collect();
    match strategy {
        "zero-shot" => words[..words.len() / 2].join(" "),
        "few-shot" => words[..words.len() - 1].join(" "),
        _ => format!("Let me think. {reference}"),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::with_config(Config::from_env_or_default()?)?;
    let experiment = client.get_or_create_experiment("support-summaries-prompts")?;
    let rouge = RougeScorer::new(&["rougeL"], true)?;
    let price_per_1k_tokens = 0.002;

    for (strategy, prompt_tokens) in [
        ("zero-shot", 40u64),
        ("few-shot", 220),
        ("chain-of-thought", 130),
    ] {
        let run = client.start_run(&experiment, Some(strategy))?;
        run.log_param("prompt_strategy", strategy);
        run.log_param("model", "gpt-4o-mini");
        run.log_param("temperature", "0.2");

        let outputs: Vec<String> = REFERENCES.iter().map(|r| answer(strategy, r)).collect();
        let hyps: Vec<&str> = outputs.iter().map(String::as_str).collect();
        let refs = vec![REFERENCES.to_vec()];
        let bleu = corpus_bleu(&hyps, &refs, &BleuOptions::default())?.score;
        let chrf = corpus_chrf(&hyps, &refs, &ChrfOptions::default())?.score;

        let mut rows = Vec::new();
        for (i, (out, reference)) in outputs.iter().zip(REFERENCES).enumerate() {
            let completion_tokens = out.split(' ').count() as u64 * 4 / 3;
            let latency_ms = 180.0 + 9.0 * completion_tokens as f64 + 0.4 * prompt_tokens as f64;
            let cost = (prompt_tokens + completion_tokens) as f64 / 1000.0 * price_per_1k_tokens;
            let mut scores = BTreeMap::new();
            scores.insert(
                "bleu".into(),
                sentence_bleu(out, &[reference], &BleuOptions::sentence())?.score,
            );
            scores.insert(
                "rougeL".into(),
                rouge.score(reference, out)["rougeL"].fmeasure,
            );
            rows.push(EvalRow {
                input: format!("ticket {i}"),
                output: out.clone(),
                reference: reference.into(),
                scores,
                latency_ms: Some(latency_ms),
                prompt_tokens: Some(prompt_tokens),
                completion_tokens: Some(completion_tokens),
                cost_usd: Some(cost),
            });
        }
        let table = EvalTable::from_rows(&rows);
        let mean = |name: &str| {
            let v = table.numbers(name);
            v.iter().sum::<f64>() / v.len() as f64
        };
        run.log_metric("bleu", bleu, 0);
        run.log_metric("chrf", chrf, 0);
        run.log_metric("rougeL", mean("rougeL"), 0);
        run.log_metric("latency_ms", mean("latency_ms"), 0);
        run.log_metric("cost_usd", table.numbers("cost_usd").iter().sum(), 0);
        // The table, where MLflow's UI looks for it.
        run.set_tag(
            "mlflow.loggedArtifacts",
            r#"[{"path": "eval_results.json", "type": "table"}]"#,
        );
        let info = client.get_run(run.run_id())?;
        client.upload_artifact(
            &info,
            "eval_results.json",
            table.to_mlflow_json().into_bytes(),
        )?;
        run.finish();
        println!("{strategy:<17} bleu {bleu:6.2}  chrf {chrf:6.2}");
    }

    // Which strategy won under a cost limit?
    let best = client.search_runs(&SearchRuns {
        experiment_ids: vec![experiment],
        filter: Some(Filter::metric("cost_usd").lt(0.002).into()),
        order_by: vec![OrderBy::metric("bleu").desc().into()],
        max_results: Some(1),
        ..SearchRuns::default()
    })?;
    if let Some(run) = best.items.first() {
        println!(
            "best BLEU under $0.002: {} ({})",
            run.info.run_name, run.info.run_id
        );
    }
    Ok(())
}
