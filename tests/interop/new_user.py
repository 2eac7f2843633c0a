"""What a new user does first: point plain `mlflow` at Cairn, log a run, find it again.

Run with MLFLOW_TRACKING_URI set to a Cairn server; exits non-zero on any mismatch.
"""
import uuid

import mlflow

name = f"first-steps-{uuid.uuid4().hex[:8]}"
mlflow.set_experiment(name)
with mlflow.start_run(run_name="baseline") as run:
    mlflow.log_param("prompt_strategy", "few-shot")
    for step, loss in enumerate([0.9, 0.6, 0.4]):
        mlflow.log_metric("loss", loss, step=step)
    mlflow.log_metrics({"bleu": 31.2, "cost_usd": 0.004})
    mlflow.set_tag("team", "nlp")

found = mlflow.search_runs(
    experiment_names=[name],
    filter_string="metrics.bleu > 30 AND params.prompt_strategy = 'few-shot'",
    output_format="list",
)
assert [r.info.run_id for r in found] == [run.info.run_id], found
got = found[0]
assert got.info.status == "FINISHED", got.info.status
assert got.data.metrics["loss"] == 0.4, got.data.metrics
history = mlflow.MlflowClient().get_metric_history(run.info.run_id, "loss")
assert [m.value for m in history] == [0.9, 0.6, 0.4], history
print(f"new-user script: logged and found run {run.info.run_id} in experiment {name!r}")
