//! A training process that logs through `ActiveRun` and dies without finishing, for
//! tests of `cairn sync`: `log_then_die URI RUN_ID SPOOL_DIR POINTS`.

use cairn_client::{ActiveRun, Client, LoggerOptions};
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, uri, run_id, spool_dir, points] = args.as_slice() else {
        eprintln!("usage: log_then_die URI RUN_ID SPOOL_DIR POINTS");
        std::process::exit(2);
    };
    let points: i64 = points.parse().expect("POINTS is a count");
    let options = LoggerOptions {
        spool_dir: Some(spool_dir.into()),
        finish_timeout: Duration::from_millis(500),
        flush_interval: Duration::from_millis(20),
        ..LoggerOptions::default()
    };
    let run = ActiveRun::attach(Client::new(uri), run_id, options).expect("logger");
    run.log_param("lr", "0.001");
    run.set_tag("phase", "warmup");
    for step in 0..points {
        run.log_metric("loss", 1.0 / (step + 1) as f64, step);
    }
    run.set_tag("phase", "done");
    let delivery = run.flush();
    println!(
        "{}",
        serde_json::json!({
            "delivered": delivery.delivered,
            "spool": delivery.spool,
            "dropped": delivery.dropped,
        })
    );
    // Dies here as a crashed job would: no finish, no destructors.
    std::process::exit(3);
}
