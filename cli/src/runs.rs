//! `cairn runs ...`: commands over the runs of an experiment.

use crate::args::ParetoArgs;
use cairn_client::eval::compare::pareto_front;
use cairn_client::{Client, SearchRuns};

/// Prints the runs that no other run beats on every named metric.
pub async fn pareto(args: ParetoArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        !(args.maximize.is_empty() && args.minimize.is_empty()),
        "name at least one --max or --min metric"
    );
    let client = Client::new(&args.server.tracking_uri);
    let experiment_id = if args.experiment.bytes().all(|b| b.is_ascii_digit()) {
        client.get_experiment(&args.experiment).await?.experiment_id
    } else {
        client
            .get_experiment_by_name(&args.experiment)
            .await?
            .experiment_id
    };
    let objectives: Vec<(String, bool)> = args
        .maximize
        .iter()
        .map(|m| (m.clone(), true))
        .chain(args.minimize.iter().map(|m| (m.clone(), false)))
        .collect();
    let keys: Vec<String> = objectives
        .iter()
        .map(|(m, _)| {
            m.strip_prefix("metrics.")
                .or_else(|| m.strip_prefix("metric."))
                .unwrap_or(m)
                .to_owned()
        })
        .collect();
    let query = SearchRuns {
        experiment_ids: vec![experiment_id],
        max_results: Some(1000),
        ..SearchRuns::default()
    };
    let mut points = Vec::new();
    for run in client.search_all_runs(&query, None).await? {
        let values: Option<Vec<f64>> = keys
            .iter()
            .map(|k| {
                run.data
                    .metrics
                    .iter()
                    .find(|m| &m.key == k)
                    .map(|m| m.value)
            })
            .collect();
        if let Some(values) = values {
            points.push((
                format!("{}\t{}", run.info.run_id, run.info.run_name),
                values,
            ));
        }
    }
    let maximize: Vec<bool> = objectives.iter().map(|(_, max)| *max).collect();
    let front = pareto_front(&points, &maximize);
    println!(
        "run_id\trun_name\t{}",
        objectives
            .iter()
            .map(|(m, _)| m.as_str())
            .collect::<Vec<_>>()
            .join("\t")
    );
    for name in &front {
        let values = &points
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        println!(
            "{name}\t{}",
            values
                .iter()
                .map(|v| format!("{v}"))
                .collect::<Vec<_>>()
                .join("\t")
        );
    }
    Ok(())
}
