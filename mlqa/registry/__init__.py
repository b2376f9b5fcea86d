"""Model registries an approved release leaves through (MLflow: :mod:`mlqa.registry.mlflow`).
Nothing here is imported by ``import mlqa`` or by the pytest plugin's import."""
