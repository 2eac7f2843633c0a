"""A new user's promotion flow: register a version from a run with the MLflow client,
promote it to Staging, then to Production through a Cairn gate, move an alias, and
read the promotion history back.

Run with MLFLOW_TRACKING_URI set to a Cairn server; exits non-zero on any mismatch.
"""
import os
import tempfile
import uuid

import mlflow
import requests
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

url = os.environ["MLFLOW_TRACKING_URI"].rstrip("/")
client = MlflowClient()
name = f"summarizer-{uuid.uuid4().hex[:8]}"

mlflow.set_experiment(f"promotion-{uuid.uuid4().hex[:8]}")
with mlflow.start_run() as run:
    mlflow.log_metric("bleu", 28.5)
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "MLmodel"), "w") as f:
            f.write("flavors: {}\n")
        mlflow.log_artifact(os.path.join(tmp, "MLmodel"), "model")
version = mlflow.register_model(f"runs:/{run.info.run_id}/model", name)
assert version.version == "1", version

gate = requests.post(
    f"{url}/api/2.0/cairn/registered-models/gates/set",
    json={"name": name, "stage": "Production", "filter": "metrics.bleu >= 30"},
    timeout=30,
)
assert gate.status_code == 200, gate.text

client.transition_model_version_stage(name, "1", "Staging")
try:
    client.transition_model_version_stage(name, "1", "Production")
    raise SystemExit("the gate let a run with bleu 28.5 into Production")
except MlflowException as e:
    assert "metrics.bleu >= 30" in e.message and "28.5" in e.message, e.message

client.log_metric(run.info.run_id, "bleu", 31.0, step=1)
promoted = client.transition_model_version_stage(name, "1", "Production")
assert promoted.current_stage == "Production", promoted
client.set_registered_model_alias(name, "champion", "1")
assert client.get_model_version_by_alias(name, "champion").version == "1"

history = requests.get(f"{url}/api/2.0/cairn/registered-models/history", params={"name": name}, timeout=30).json()
moves = [(e["kind"], e.get("from"), e.get("to")) for e in history["events"]]
assert moves == [("stage", "None", "Staging"), ("stage", "Staging", "Production"), ("alias", None, "1")], moves
assert history["events"][1]["metrics"]["bleu"] == 31.0, history["events"][1]
print(f"promotion: {name} v1 went None -> Staging -> Production (gate held at bleu 28.5, passed at 31.0), alias champion -> 1")
