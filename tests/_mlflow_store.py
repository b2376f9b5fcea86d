"""A real local MLflow tracking store: sqlite, its registry migrated once per test session (about
9 s here) into a template database that each test copies (a fraction of a second). Artifacts go
to a folder beside the copy. Nothing listens on the network."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # before mlflow is imported


def migrated_template(folder: Path) -> Path:
    """A tracking database with every MLflow migration applied (tracking and registry)."""
    from mlflow.tracking import MlflowClient

    db = folder / "template.db"
    client = MlflowClient(tracking_uri=f"sqlite:///{db}", registry_uri=f"sqlite:///{db}")
    client.search_experiments()
    client.search_registered_models()
    return db


class TrackingStore:
    """A copy of the template in ``folder``: ``.uri`` and a client; ``log_model_run`` and
    ``register`` do what a training pipeline does before the gate."""

    def __init__(self, template: Path, folder: Path):
        from mlflow.tracking import MlflowClient

        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(template, folder / "mlflow.db")
        self.uri = f"sqlite:///{folder / 'mlflow.db'}"
        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        self.experiment = self.client.create_experiment(
            "churn", artifact_location=(folder / "artifacts").as_uri())

    def log_model_run(self, model_file: Path) -> str:
        """A finished training run with the model file logged under ``model/``."""
        run = self.client.create_run(self.experiment)
        self.client.log_artifact(run.info.run_id, str(model_file), "model")
        self.client.set_terminated(run.info.run_id)
        return str(run.info.run_id)

    def register(self, name: str, run_id: str | None) -> str:
        """A new version of ``name`` from ``run_id``'s model (None: from no run)."""
        try:
            self.client.create_registered_model(name)
        except Exception:  # noqa: BLE001 - already registered
            pass
        source = f"runs:/{run_id}/model" if run_id else "file:///nowhere/model"
        return str(self.client.create_model_version(name, source, run_id=run_id).version)

    def version(self, name: str, version: str) -> Any:
        return self.client.get_model_version(name, version)

    def aliases(self, name: str) -> dict[str, str]:
        return {a: str(v) for a, v in self.client.get_registered_model(name).aliases.items()}
