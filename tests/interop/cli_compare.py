"""`cairn runs compare` of two runs logged by the MLflow Python client shows their
differing params and metrics, and hides what they share.

Usage: MLFLOW_TRACKING_URI=... python cli_compare.py PATH/TO/cairn
"""
import json
import subprocess
import sys
import uuid

import mlflow

cairn = sys.argv[1]
mlflow.set_experiment(f"cli-compare-{uuid.uuid4().hex[:8]}")
ids = []
for strategy, bleu in [("zero-shot", 24.1), ("few-shot", 31.7)]:
    with mlflow.start_run(run_name=strategy) as run:
        mlflow.log_params({"prompt_strategy": strategy, "model": "gpt-4o-mini"})
        mlflow.log_metrics({"bleu": bleu, "temperature_used": 0.2})
        ids.append(run.info.run_id)

out = subprocess.run(
    [cairn, "runs", "compare", *ids, "--only-diff", "-o", "json"],
    check=True, capture_output=True, text=True,
).stdout
rows = {row["key"]: row for row in json.loads(out)}
assert rows["params.prompt_strategy"]["values"] == {ids[0]: "zero-shot", ids[1]: "few-shot"}, rows
assert rows["metrics.bleu"]["values"] == {ids[0]: 24.1, ids[1]: 31.7}, rows
assert all(r["differs"] for r in rows.values()), rows
assert "params.model" not in rows and "metrics.temperature_used" not in rows, sorted(rows)

table = subprocess.run([cairn, "runs", "compare", *ids], check=True, capture_output=True, text=True).stdout
marked = {line.split()[0] for line in table.splitlines()[1:] if line.rstrip().endswith("*")}
assert {"params.prompt_strategy", "metrics.bleu"} <= marked, table
assert "params.model" not in marked and "\x1b[" not in table, table
print(f"cli compare: {sorted(rows)} differ between {ids[0]} and {ids[1]}")
