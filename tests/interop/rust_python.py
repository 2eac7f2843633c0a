"""Rust <-> MLflow Python: a run logged with the Rust client reads back identically through
`mlflow` (search_runs, get_metric_history), and a run logged with `mlflow` reads back
identically through the Rust client.

Usage: MLFLOW_TRACKING_URI=... python rust_python.py PATH/TO/examples/interop
"""
import json
import math
import subprocess
import sys
import uuid

import mlflow
from mlflow import MlflowClient

interop = sys.argv[1]


def rust(*args):
    out = subprocess.run([interop, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def same_value(a, b):
    if a == "NaN" or b == "NaN" or (isinstance(a, float) and math.isnan(a)) or (
        isinstance(b, float) and math.isnan(b)
    ):
        return str(a).lower() == "nan" and str(b).lower() == "nan"
    return a == b


def same_history(expected, got, what):
    assert len(expected) == len(got), (what, len(expected), len(got))
    for e, g in zip(expected, got):
        assert e[0] == g[0] and e[2] == g[2] and same_value(e[1], g[1]), (what, e, g)


# Rust writes, Python reads.
experiment = f"interop-{uuid.uuid4().hex[:8]}"
logged = rust("write", experiment)
runs = mlflow.search_runs(
    experiment_names=[experiment],
    filter_string="params.prompt_strategy = 'few-shot' AND metrics.loss < 0.02",
    output_format="list",
)
assert [r.info.run_id for r in runs] == [logged["run_id"]], runs
run = runs[0]
assert run.info.status == "FINISHED", run.info.status
assert run.data.params == logged["params"], (run.data.params, logged["params"])
for k, v in logged["tags"].items():
    assert run.data.tags[k] == v, (k, run.data.tags.get(k), v)
client = MlflowClient()
for key, points in logged["history"].items():
    got = [[m.step, m.value, m.timestamp] for m in client.get_metric_history(logged["run_id"], key)]
    same_history(points, got, key)
    last = max(points, key=lambda p: (p[0], p[2]))
    assert same_value(last[1], run.data.metrics[key]), (key, last, run.data.metrics[key])
print(f"rust -> python: run {logged['run_id']} reads back identically through mlflow")

# Python writes, Rust reads.
mlflow.set_experiment(experiment)
params = {"prompt_strategy": "chain-of-thought", "model": "gpt-4o-mini", "note": "ünïcödé ✓"}
loss = [(s, 1.0 / (s + 3) + 1e-14 * s, 1_764_100_000_000 + s) for s in range(150)]
with mlflow.start_run(run_name="python-logged") as started:
    mlflow.log_params(params)
    mlflow.set_tags({"team": "eval", "source": "python"})
    for step, value, ts in loss:
        client.log_metric(started.info.run_id, "loss", value, timestamp=ts, step=step)
    mlflow.log_metric("bleu", float("nan"), step=0)
read = rust("read", started.info.run_id, "loss", "bleu")
assert read["status"] == "FINISHED", read["status"]
assert read["params"] == params, read["params"]
assert read["tags"]["team"] == "eval" and read["tags"]["source"] == "python", read["tags"]
expected = [[m.step, m.value, m.timestamp] for m in client.get_metric_history(started.info.run_id, "loss")]
same_history([[s, v, t] for s, v, t in loss], expected, "loss through mlflow")
same_history(expected, read["history"]["loss"], "loss through rust")
assert len(read["history"]["bleu"]) == 1 and same_value(read["history"]["bleu"][0][1], "NaN")
print(f"python -> rust: run {started.info.run_id} reads back identically through the Rust client")
