"""Eval tables cross both ways between Cairn and the MLflow client:
a table logged by `mlflow.log_table` diffs with `cairn eval diff`, and a table logged
by `cairn eval score` loads with `mlflow.load_table`.

Usage: MLFLOW_TRACKING_URI=... python eval_tables.py /path/to/cairn
"""
import os
import subprocess
import sys
import tempfile
import uuid

import mlflow

cairn = sys.argv[1]
url = os.environ["MLFLOW_TRACKING_URI"]
mlflow.set_experiment(f"tables-{uuid.uuid4().hex[:8]}")

inputs = ["q1", "q2", "q3"]
ids = []
for bleu in ([10.0, 20.0, 30.0], [15.0, 25.0, 5.0]):
    with mlflow.start_run() as run:
        mlflow.log_table(
            {"input": inputs, "output": ["a", "b", "c"], "reference": ["a", "b", "c"], "bleu": bleu},
            artifact_file="eval/results.json",
        )
        ids.append(run.info.run_id)
out = subprocess.run([cairn, "eval", "diff", ids[0], ids[1], "--tracking-uri", url], capture_output=True, text=True)
assert out.returncode == 0, out.stderr
assert "paired 3 examples on `input`" in out.stdout, out.stdout
bleu = next(line for line in out.stdout.splitlines() if line.startswith("bleu")).split()
assert bleu[1:4] == ["2", "1", "0"], bleu  # wins, losses, ties of B over A

with tempfile.TemporaryDirectory() as tmp:
    preds, refs = os.path.join(tmp, "p.txt"), os.path.join(tmp, "r.txt")
    open(preds, "w").write("The cat sleeps.\nTokyo.\n")
    open(refs, "w").write("The cat sleeps on the mat.\nThe capital of Japan is Tokyo.\n")
    with mlflow.start_run() as run:
        pass
    out = subprocess.run(
        [cairn, "eval", "score", "--predictions", preds, "--references", refs, "--run", run.info.run_id,
         "--tracking-uri", url],
        capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stderr
df = mlflow.load_table("eval/results.json", run_ids=[run.info.run_id])
assert len(df) == 2, df
assert {"output", "reference", "bleu", "rougeL"} <= set(df.columns), df.columns
assert df["output"].tolist() == ["The cat sleeps.", "Tokyo."], df
print(f"eval tables: mlflow.log_table -> cairn eval diff and cairn eval score -> mlflow.load_table both work ({len(df)} rows)")
