//! Both directions of Rust ↔ MLflow Python interop, driven by `tests/interop/rust_python.py`:
//! `interop write EXPERIMENT` logs a run through `ActiveRun` and prints what it logged as
//! JSON; `interop read RUN_ID KEY...` prints a run and its metric histories as the Rust
//! client reads them.

use cairn_client::blocking::Client;
use cairn_client::Config;
use serde_json::{json, Map, Value};

/// The run Rust logs: awkward values on purpose (full-precision floats, a negative
/// step, NaN, unicode, a long param).
fn write(client: &Client, experiment: &str) -> Result<Value, Box<dyn std::error::Error>> {
    let experiment_id = client.get_or_create_experiment(experiment)?;
    let run = client.start_run(&experiment_id, Some("rust-logged"))?;
    let params = json!({
        "prompt_strategy": "few-shot",
        "temperature": "0.2",
        "system_prompt": "Tu es un assistant précis — réponds en une phrase. ".repeat(20),
    });
    for (k, v) in params.as_object().expect("object") {
        run.log_param(k, v.as_str().expect("text"));
    }
    let tags = json!({"team": "nlp", "mlflow.note.content": "logged from Rust ✓"});
    for (k, v) in tags.as_object().expect("object") {
        run.set_tag(k, v.as_str().expect("text"));
    }
    let base = 1_764_000_000_000_i64;
    let mut history = Map::new();
    let loss: Vec<(i64, f64, i64)> = (-1..200)
        .map(|s| {
            (
                s,
                2.0 / (s as f64 + 2.0) + 1e-13 * s as f64,
                base + 10 * (s + 1),
            )
        })
        .collect();
    let bleu = vec![(0, 31.123456789012345, base), (1, f64::NAN, base + 1)];
    for (key, points) in [("loss", &loss), ("bleu", &bleu)] {
        for (step, value, ts) in points {
            run.log_metric_at(key, *value, *step, *ts);
        }
        history.insert(
            key.to_owned(),
            points
                .iter()
                .map(|(s, v, t)| json!([s, if v.is_nan() { json!("NaN") } else { json!(v) }, t]))
                .collect(),
        );
    }
    let run_id = run.run_id().to_owned();
    let delivery = run.finish();
    if !delivery.delivered {
        return Err(format!("not delivered: {delivery:?}").into());
    }
    Ok(
        json!({"run_id": run_id, "experiment_id": experiment_id, "params": params,
              "tags": tags, "history": history}),
    )
}

fn read(
    client: &Client,
    run_id: &str,
    keys: &[String],
) -> Result<Value, Box<dyn std::error::Error>> {
    let run = client.get_run(run_id)?;
    let mut history = Map::new();
    for key in keys {
        let points = client.get_metric_history(run_id, key)?;
        history.insert(
            key.clone(),
            points
                .iter()
                .map(|m| {
                    let v = if m.value.is_nan() {
                        json!("NaN")
                    } else {
                        json!(m.value)
                    };
                    json!([m.step, v, m.timestamp])
                })
                .collect(),
        );
    }
    let params: Map<String, Value> = run
        .data
        .params
        .iter()
        .map(|p| (p.key.clone(), json!(p.value)))
        .collect();
    let tags: Map<String, Value> = run
        .data
        .tags
        .iter()
        .map(|t| (t.key.clone(), json!(t.value)))
        .collect();
    Ok(
        json!({"run_id": run.info.run_id, "status": run.info.status.as_str(),
              "params": params, "tags": tags, "history": history}),
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::with_config(Config::from_env()?)?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = match args.as_slice() {
        [cmd, experiment] if cmd == "write" => write(&client, experiment)?,
        [cmd, run_id, keys @ ..] if cmd == "read" => read(&client, run_id, keys)?,
        _ => return Err("usage: interop write EXPERIMENT | interop read RUN_ID KEY...".into()),
    };
    println!("{out}");
    Ok(())
}
