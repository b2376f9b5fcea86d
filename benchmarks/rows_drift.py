"""Text and embedding drift (issue 25): mlqa's tests against evidently 0.7.23's methods on the
same seeded data, and mlqa's memory at 1M x 768.

    python benchmarks/rows_drift.py null  [--seeds 60] [--text-sizes 500 2000]
                                          [--embedding-sizes 500 2000]
    python benchmarks/rows_drift.py power [--seeds 20] [--text-sizes 500 2000]
                                          [--embedding-sizes 2000 20000]
    python benchmarks/rows_drift.py size [--seeds 2] [--embedding-sizes 10000 40000]
    python benchmarks/rows_drift.py memory [--rows 1000000] [--dims 768]

Data (tests/drift/rows_data.py): documents of 5-20 pseudo-words from 4 topics (Zipf weights),
a topic shift sends 10% of current documents to a fifth topic; embeddings from a 5-component
Gaussian mixture, a shift moves 5 of 768 dimensions by 0.1 sd.

* ``null``: the share of seeds where each method flags drift when nothing changed. mlqa: the
  whole check (every part, one Holm family at alpha 0.05). evidently: its text rule
  (``calculate_text_drift_score``: the 95th percentile of random-classifier AUCs at <= 1000
  reference rows, AUC > 0.55 above) and its four embedding methods with their defaults
  (``model`` AUC > 0.55 (bootstrap below 1000 rows), ``distance`` > 0.2, ``ratio`` > 0.2,
  ``mmd`` > 0.015).
* ``power``: the same shares under the shifts.
* ``size``: the classifier with its cap raised to n, and the per-dimension view, against
  0.1 sd in 5 of 768 dimensions: the size at which the shift would be found.
* ``memory``: both sides as float32 memory-mapped files (the input, 2 x rows x dims x 4
  bytes, on disk); the peak anonymous memory (RssAnon, sampled every 5 ms) of
  ``check_drift(embeddings=...)`` above what the process held before, and its time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import warnings

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.drift.rows_data import mixture, sentences  # noqa: E402


def _evidently():
    os.environ.setdefault("DO_NOT_TRACK", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from evidently.legacy.metrics.data_drift import embedding_drift_methods as emb
        from evidently.legacy.utils.data_drift_utils import calculate_text_drift_score
    return emb, calculate_text_drift_score


def text_pair(n: int, seed: int, shift: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    return (pd.DataFrame({"review": sentences(n, rng)}),
            pd.DataFrame({"review": sentences(n, rng, topic_shift=shift)}))


def text_row(n: int, seed: int, shift: float) -> dict:
    import mlqa

    _, text_score = _evidently()
    ref, cur = text_pair(n, seed, shift)
    r = mlqa.check_drift(ref, cur, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        auc, flag = text_score(ref["review"], cur["review"], bootstrap=n <= 1000)
    return {"kind": "text", "n": n, "shift": shift, "seed": seed, "mlqa": not r.passed,
            "mlqa_parts": r.drifted_columns,
            "mlqa_auc": r.columns["review.classifier"].statistic,
            "evidently_text": bool(flag), "evidently_auc": float(auc)}


def embedding_row(n: int, dims: int, seed: int, shift_dims: int, shift: float) -> dict:
    import mlqa

    emb, _ = _evidently()
    rng = np.random.default_rng(seed)
    x = mixture(n, dims, rng)
    y = mixture(n, dims, rng, shift_dims=shift_dims, shift=shift)
    t = time.perf_counter()
    r = mlqa.check_drift(pd.DataFrame({"a": rng.normal(size=n)}),
                         pd.DataFrame({"a": rng.normal(size=n)}),
                         embeddings={"e": (x, y)}, random_state=seed)
    took = time.perf_counter() - t
    view = r.details["rows_tested"]["e"]
    row = {"kind": "embedding", "n": n, "dims": dims, "seed": seed, "shift": shift,
           "shift_dims": shift_dims, "mlqa": not r.passed, "mlqa_parts": r.drifted_columns,
           "mlqa_auc": view["classifier"]["auc"], "mlqa_mmd_p": view["mmd"]["p_value"],
           "components_bh": view["components"]["significant_bh"],
           "components_shifted_found": sum(j < shift_dims for j, p in view["components"]["top"]
                                           if p < 0.05),
           "mlqa_s": round(took, 2)}
    ref_df, cur_df = pd.DataFrame(x.astype(np.float64)), pd.DataFrame(y.astype(np.float64))
    methods = {"model": emb.model(bootstrap=n < 1000), "distance": emb.distance(),
               "ratio": emb.ratio(), "mmd": emb.mmd()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, method in methods.items():
            if name == "mmd" and n > 5000:  # its kernel matrix is (2n)^2 doubles
                continue
            score, flag, _ = method(cur_df.copy(), ref_df.copy())
            row[f"evidently_{name}"] = bool(flag)
            row[f"evidently_{name}_score"] = float(score)
    return row


def _rates(rows: list[dict], keys: list[str]) -> dict:
    return {k: f"{sum(bool(r[k]) for r in rows if k in r)}/{sum(k in r for r in rows)}"
            for k in keys}


def null(seeds: int, text_sizes: list[int], embedding_sizes: list[int]) -> None:
    for n in text_sizes:
        rows = [text_row(n, s, 0.0) for s in range(seeds)]
        print(json.dumps({"study": "null", "kind": "text", "n": n, "seeds": seeds,
                          **_rates(rows, ["mlqa", "evidently_text"])}), flush=True)
    ev = ["evidently_model", "evidently_distance", "evidently_ratio", "evidently_mmd"]
    for n in embedding_sizes:
        rows = [embedding_row(n, 768, s, 0, 0.0) for s in range(seeds)]
        print(json.dumps({"study": "null", "kind": "embedding", "n": n, "dims": 768,
                          "seeds": seeds, **_rates(rows, ["mlqa", *ev])}), flush=True)


def power(seeds: int, text_sizes: list[int], embedding_sizes: list[int]) -> None:
    for n in text_sizes:
        rows = [text_row(n, 1000 + s, 0.1) for s in range(seeds)]
        parts: dict[str, int] = {}
        for r in rows:
            for p in r["mlqa_parts"]:
                parts[p] = parts.get(p, 0) + 1
        print(json.dumps({"study": "power", "kind": "text", "topic_shift": 0.1, "n": n,
                          "seeds": seeds, **_rates(rows, ["mlqa", "evidently_text"]),
                          "mlqa_parts": parts,
                          "mean_auc": float(np.mean([r["mlqa_auc"] for r in rows]))}),
              flush=True)
    ev = ["evidently_model", "evidently_distance", "evidently_ratio", "evidently_mmd"]
    for n in embedding_sizes:
        k = seeds if n <= 5000 else max(1, seeds // 4)
        rows = [embedding_row(n, 768, 2000 + s, 5, 0.1) for s in range(k)]
        print(json.dumps({"study": "power", "kind": "embedding", "shift": "0.1 sd in 5 of 768",
                          "n": n, "seeds": k, **_rates(rows, ["mlqa", *ev]),
                          "mean_auc": float(np.mean([r["mlqa_auc"] for r in rows])),
                          "mmd_p": [r["mlqa_mmd_p"] for r in rows],
                          "components_bh": [r["components_bh"] for r in rows],
                          "shifted_dims_in_top5": [r["components_shifted_found"]
                                                   for r in rows],
                          "mlqa_s": [r["mlqa_s"] for r in rows]}), flush=True)


def size(seeds: int, sizes: list[int]) -> None:
    """At what size would 0.1 sd in 5 of 768 dimensions be found? The held-out classifier
    with its row cap raised to n (check_drift caps it at 10 000 per side), and the
    per-dimension KS view (BH) on n rows per side."""
    from mlqa.drift import domain, embeddings

    for n in sizes:
        out = []
        for s in range(seeds):
            rng = np.random.default_rng(3000 + s)
            x, y = mixture(n, 768, rng), mixture(n, 768, rng, shift_dims=5, shift=0.1)
            t = time.perf_counter()
            held = domain.held_out_test(x, y, embeddings.classifier, alpha=0.05, rng=rng,
                                        max_rows=n)
            comp = embeddings.components(x, y, alpha=0.05, rng=rng, max_rows=n)
            out.append({"auc": round(held.auc, 4), "p": held.p_value,
                        "components_bh": comp["significant_bh"],
                        "shifted_in_top5": sum(j < 5 for j, p in comp["top"] if p < 0.05),
                        "s": round(time.perf_counter() - t, 1)})
        print(json.dumps({"study": "size", "n": n, "seeds": seeds, "runs": out}), flush=True)


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def memory(rows: int, dims: int) -> None:
    import mlqa

    folder = tempfile.mkdtemp(prefix="rows_drift_")
    sides = []
    t = time.perf_counter()
    for i, shift in enumerate((0.0, 0.1)):
        path = os.path.join(folder, f"side{i}.f32")
        mm = np.memmap(path, dtype=np.float32, mode="w+", shape=(rows, dims))
        rng = np.random.default_rng(i)
        for s in range(0, rows, 50_000):
            mm[s:s + 50_000] = mixture(min(50_000, rows - s), dims, rng, shift_dims=5,
                                       shift=shift)
        mm.flush()
        del mm
        sides.append(np.memmap(path, dtype=np.float32, mode="r", shape=(rows, dims)))
    written = time.perf_counter() - t
    before = _status_kb("RssAnon")
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _status_kb("RssAnon"))
            time.sleep(0.005)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    t = time.perf_counter()
    rng = np.random.default_rng(9)
    r = mlqa.check_drift(pd.DataFrame({"a": rng.normal(size=100)}),
                         pd.DataFrame({"a": rng.normal(size=100)}),
                         embeddings={"e": (sides[0], sides[1])}, random_state=0)
    took = time.perf_counter() - t
    done.set()
    watcher.join()
    view = r.details["rows_tested"]["e"]
    print(json.dumps({"study": "memory", "rows": rows, "dims": dims,
                      "input_gb": round(2 * rows * dims * 4 / 1e9, 2),
                      "peak_anon_beyond_input_mb": round((peak[0] - before) / 1024, 1),
                      "check_s": round(took, 1), "write_s": round(written, 1),
                      "outcome": r.outcome.value, "drifted": r.drifted_columns,
                      "classifier_rows": view["classifier"]["n_used"],
                      "mmd_rows": view["mmd"]["n_used"],
                      "component_rows": view["components"]["rows"]}), flush=True)
    for s in sides:
        os.remove(s.filename)
    os.rmdir(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", choices=("null", "power", "size", "memory"))
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dims", type=int, default=768)
    parser.add_argument("--text-sizes", type=int, nargs="*", default=[500, 2000])
    parser.add_argument("--embedding-sizes", type=int, nargs="*", default=None)
    a = parser.parse_args()
    if a.study == "null":
        null(a.seeds or 60, a.text_sizes,
             [500, 2000] if a.embedding_sizes is None else a.embedding_sizes)
    elif a.study == "power":
        power(a.seeds or 20, a.text_sizes,
              [2000, 20_000] if a.embedding_sizes is None else a.embedding_sizes)
    elif a.study == "size":
        size(a.seeds or 2, a.embedding_sizes or [10_000, 40_000])
    else:
        memory(a.rows, a.dims)


if __name__ == "__main__":
    main()
