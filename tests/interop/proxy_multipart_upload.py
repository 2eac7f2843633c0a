"""The MLflow client's proxy multipart upload against Cairn: a file sent in parts comes back whole.

Run with MLFLOW_TRACKING_URI set; turns multipart on for small files so the test stays quick.
"""
import hashlib
import os
import tempfile
import uuid

os.environ["MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"] = "true"
os.environ["MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE"] = str(1024 * 1024)
os.environ["MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE"] = str(5 * 1024 * 1024)

import mlflow  # noqa: E402

mlflow.set_experiment(f"multipart-{uuid.uuid4().hex[:8]}")
with tempfile.TemporaryDirectory() as tmp:
    src = os.path.join(tmp, "checkpoint.bin")
    with open(src, "wb") as f:
        f.write(os.urandom(12 * 1024 * 1024 + 12345))
    want = hashlib.sha256(open(src, "rb").read()).hexdigest()
    with mlflow.start_run() as run:
        mlflow.log_artifact(src, "ckpt")
    back = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="ckpt/checkpoint.bin", dst_path=os.path.join(tmp, "out"))
    got = hashlib.sha256(open(back, "rb").read()).hexdigest()
    assert got == want, (got, want)
print(f"multipart upload: 3 parts of a 12 MiB file came back whole ({want[:12]}...)")
