"""Write the approved baseline this example compares against (``baselines/``).

The baseline is the previous model's per-row predictions on the holdout rows (labels and
scores), with the fingerprint of those rows. In a real project the previous release's
approved run left it there (``mlqa baseline promote``); run this only to rebuild it::

    python example_suites/release/record_baseline.py
"""

from __future__ import annotations

import shutil
from pathlib import Path

from release_data import FEATURES, TARGET, splits, train

from mlqa.baseline import APPROVED, LATEST, RecordBuilder

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    frames = splits()
    previous = train(frames["reference"], C=0.01)
    X, y = frames["holdout"][FEATURES], frames["holdout"][TARGET]
    builder = RecordBuilder(model_name="breast-cancer-classifier", model_version="1.0")
    builder.set_model(previous, name="breast-cancer-classifier", version="1.0",
                      store_file=False)
    builder.add_predictions("holdout", y, previous.predict(X), X=X,
                            metrics=["accuracy", "recall"])
    builder.add_predictions("holdout_scores", y, previous.predict_proba(X)[:, 1], X=X,
                            metrics=["roc_auc"])
    shutil.rmtree(HERE / "baselines", ignore_errors=True)
    print(builder.save(HERE / "baselines", aliases=(APPROVED, LATEST)))
