//! A simulated fine-tuning loop logged through `ActiveRun`: hyperparameters, loss and
//! learning rate every step, eval loss every 100 steps, a checkpoint artifact per epoch.
//!
//! `MLFLOW_TRACKING_URI=http://127.0.0.1:5000 cargo run -p cairn-client --example fine_tune`

use cairn_client::blocking::Client;
use cairn_client::Config;
use std::f64::consts::PI;
use std::io::Write;

const EPOCHS: i64 = 3;
const STEPS_PER_EPOCH: i64 = 500;
const PEAK_LR: f64 = 3e-4;
const WARMUP: i64 = 100;

/// Linear warm-up, then cosine decay to zero.
fn learning_rate(step: i64) -> f64 {
    let total = EPOCHS * STEPS_PER_EPOCH;
    if step < WARMUP {
        PEAK_LR * (step + 1) as f64 / WARMUP as f64
    } else {
        let progress = (step - WARMUP) as f64 / (total - WARMUP) as f64;
        PEAK_LR * 0.5 * (1.0 + (PI * progress).cos())
    }
}

/// A loss curve with the shape of a real one: fast early drop, slow tail, some noise.
fn training_loss(step: i64, noise: f64) -> f64 {
    0.45 + 2.1 * (-(step as f64) / 280.0).exp() + 0.04 * noise
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::with_config(Config::from_env_or_default()?)?;
    let experiment = client.get_or_create_experiment("fine-tune-llama-lora")?;
    let run = client.start_run(&experiment, Some("lora-r16-lr3e-4"))?;
    for (k, v) in [
        ("base_model", "llama-3.1-8b"),
        ("method", "lora"),
        ("lora_r", "16"),
        ("peak_lr", "3e-4"),
        ("epochs", "3"),
        ("batch_size", "32"),
    ] {
        run.log_param(k, v);
    }
    run.set_tag("dataset", "support-tickets-v4");

    let checkpoints = tempfile_dir()?;
    let mut seed: u64 = 0x5eed;
    let mut noise = || {
        // xorshift: deterministic, dependency-free noise in [-1, 1).
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 2000) as f64 / 1000.0 - 1.0
    };
    let result = (|| -> Result<(), Box<dyn std::error::Error>> {
        for epoch in 0..EPOCHS {
            for i in 0..STEPS_PER_EPOCH {
                let step = epoch * STEPS_PER_EPOCH + i;
                run.log_metric("train_loss", training_loss(step, noise()), step);
                run.log_metric("learning_rate", learning_rate(step), step);
                if step % 100 == 99 {
                    run.log_metric("eval_loss", training_loss(step, 0.0) + 0.08, step);
                }
            }
            // A checkpoint: the "weights" of this epoch, uploaded as an artifact.
            let path = checkpoints.join(format!("epoch-{epoch}.bin"));
            let mut file = std::fs::File::create(&path)?;
            for block in 0..64u64 {
                file.write_all(&[(block as u8) ^ (epoch as u8); 16 * 1024])?;
            }
            let info = client.get_run(run.run_id())?;
            let sent = client.upload_file(
                &info,
                &format!("checkpoints/epoch-{epoch}.bin"),
                &path,
                None,
            )?;
            println!(
                "epoch {epoch}: checkpoint {} bytes, sha256 {}",
                sent.bytes,
                &sent.sha256[..12]
            );
        }
        Ok(())
    })();
    let run_id = run.run_id().to_owned();
    let delivery = run.finish_with(&result);
    result?;
    println!(
        "run {run_id}: {} ({} entries refused)",
        if delivery.delivered {
            "all metrics delivered"
        } else {
            "spooled; run `cairn sync`"
        },
        delivery.rejected.len()
    );
    let _ = std::fs::remove_dir_all(&checkpoints);
    Ok(())
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("cairn-fine-tune-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
