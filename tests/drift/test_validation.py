"""Statistical validation of tests="auto" (and the figures of tests="evidently" beside it).

Seeded simulations, 20 columns (16 numerical, 3 categorical, 1 binary), n = 5000 per side:

* no drift, 200 repetitions: the family-wise false-alarm rate (any column flagged) of "auto"
  with Holm's correction is at most alpha plus two standard errors; and, since Holm's
  guarantee rests on every p-value being valid, each test's raw null p-values (200 x 16 for
  KS and Anderson-Darling, 600 for chi-square, 200 for z) fall at or below 0.05 and 0.01 no
  more often than nominal plus three standard errors -- a far tighter check of what could
  break the family-wise rate than the rate itself;
* a 0.2 sd mean shift in one numerical column, 40 repetitions: found in >= 90% of them;
* a 5 percentage-point shift of category frequencies in one categorical column: likewise.

The alternatives are found in every repetition (power ~1 at this n), so 40 repetitions test
">= 90%" as well as 200 did (a true power of 0.8 passes with probability 0.04); evidently's
mode, whose figures here are all 0 or 1, runs on 40 repetitions of each scenario.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mlqa

N, ALPHA = 5000, 0.05
REPS = {"null": 200, "mean": 40, "category": 40}
EVIDENTLY_REPS = 40
NUM, CAT = 16, 3
P_CAT = np.array([0.4, 0.3, 0.2, 0.1])
P_SHIFTED = np.array([0.45, 0.25, 0.2, 0.1])  # 5 points moved from "b" to "a"
COLUMNS = [f"x{i}" for i in range(NUM)] + [f"c{i}" for i in range(CAT)] + ["bin"]


def side(rng: np.random.Generator, mean_shift: float = 0.0, cat_p: np.ndarray = P_CAT
         ) -> pd.DataFrame:
    x = rng.normal(size=(N, NUM))
    x[:, 0] += mean_shift
    data = {f"x{i}": x[:, i] for i in range(NUM)}
    for i in range(CAT):
        data[f"c{i}"] = np.array(list("abcd"))[
            rng.choice(4, N, p=cat_p if i == 0 else P_CAT)]
    data["bin"] = rng.random(N) < 0.3
    return pd.DataFrame(data)


def rates(scenario: str) -> dict[str, object]:
    rng = np.random.default_rng({"null": 100, "mean": 200, "category": 300}[scenario])
    reps = REPS[scenario]
    hits = {"auto": 0, "auto_target": 0, "holm_only": 0, "evidently": 0, "evidently_target": 0,
            "evidently_dataset": 0}
    raw: dict[str, list[float]] = {}  # test -> every raw p-value of every repetition
    target = {"null": None, "mean": "x0", "category": "c0"}[scenario]
    for rep in range(reps):
        ref = side(rng)
        cur = side(rng, mean_shift=0.2 if scenario == "mean" else 0.0,
                   cat_p=P_SHIFTED if scenario == "category" else P_CAT)
        for mode in ("auto", "evidently")[:1 if rep >= EVIDENTLY_REPS else 2]:
            r = mlqa.check_drift(ref, cur, tests=mode, alpha=ALPHA)
            assert list(r.columns) == COLUMNS and not r.error_columns
            hits[mode] += bool(r.drifted_columns)
            hits[f"{mode}_target"] += target in r.drifted_columns
            if mode == "auto":  # the correction alone, without the materiality floor
                hits["holm_only"] += any(c.adjusted_p_value < ALPHA for c in r.columns.values())
                for c in r.columns.values():
                    for test, (_, p) in c.statistics.items():
                        raw.setdefault(test, []).append(p)
            else:
                hits["evidently_dataset"] += r.details["dataset_drift"]
    out: dict[str, object] = {k: v / (min(reps, EVIDENTLY_REPS) if k.startswith("evidently")
                                      else reps) for k, v in hits.items()}
    out["raw"] = {t: np.array(p) for t, p in raw.items()}
    return out


@pytest.fixture(scope="module")
def simulated():
    return {s: rates(s) for s in ("null", "mean", "category")}


def test_family_wise_false_alarms_at_most_alpha(simulated):
    null = simulated["null"]
    bound = ALPHA + 2 * np.sqrt(ALPHA * (1 - ALPHA) / REPS["null"])
    assert null["auto"] <= bound, null
    # Holm's correction holds the level by itself; the floor only removes immaterial flags.
    assert null["holm_only"] <= bound, null
    assert null["auto"] <= null["holm_only"]


def test_every_null_p_value_is_valid(simulated):
    # Holm controls the family-wise rate whenever each p-value is valid (P(p <= a) <= a
    # under no change); an anti-conservative test would break it first here.
    raw = simulated["null"]["raw"]
    assert {"ks", "anderson_asymptotic", "chi2_homogeneity", "z"} <= set(raw)
    for test, p in raw.items():
        for level in (0.05, 0.01):
            se = np.sqrt(level * (1 - level) / len(p))
            assert np.mean(p <= level) <= level + 3 * se, (test, level, np.mean(p <= level))


def test_mean_shift_of_a_fifth_sd_found(simulated):
    assert simulated["mean"]["auto_target"] >= 0.90, simulated["mean"]


def test_category_shift_of_five_points_found(simulated):
    assert simulated["category"]["auto_target"] >= 0.90, simulated["category"]


def test_evidently_mode_figures(simulated):
    """evidently's defaults at n > 1000: normed Wasserstein >= 0.1 and Jensen-Shannon >= 0.1,
    no correction, dataset drift at a drifted share >= 0.5. The null noise of both distances
    at n = 5000 is far below 0.1, a 0.2 sd shift is far above, and a 5-point category shift
    (JS ~0.04) is below: evidently's defaults never see it."""
    null, mean, cat = simulated["null"], simulated["mean"], simulated["category"]
    assert null["evidently"] == 0.0
    assert mean["evidently_target"] == 1.0
    assert cat["evidently_target"] == 0.0
    # One drifted column in 20 never makes a dataset drift under the share rule.
    assert mean["evidently_dataset"] == cat["evidently_dataset"] == 0.0


if __name__ == "__main__":  # print the figures: python tests/drift/test_validation.py
    for scenario in ("null", "mean", "category"):
        print(scenario, {k: v for k, v in rates(scenario).items() if k != "raw"})


def test_n_jobs_is_the_deprecated_name_of_n_threads():
    """One name for thread counts across the project (n_threads); the old one still works for a
    release, with a DeprecationWarning, and gives the same result."""
    import warnings

    import numpy as np
    import pandas as pd

    import mlqa

    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"x": rng.normal(size=400), "y": rng.normal(size=400)})
    cur = pd.DataFrame({"x": rng.normal(0.5, size=400), "y": rng.normal(size=400)})
    new = mlqa.check_drift(ref, cur, n_threads=2)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        old = mlqa.check_drift(ref, cur, n_jobs=2)
    assert any(issubclass(w.category, DeprecationWarning) and "n_threads" in str(w.message)
               for w in seen)
    assert old == new
    with pytest.raises(mlqa.InputError, match="pass n_threads= only"):
        mlqa.check_drift(ref, cur, n_threads=1, n_jobs=1)


def test_profile_takes_n_jobs_as_the_deprecated_name_and_drift_uses_n_threads_only():
    """profile() keeps n_jobs= for a release (DeprecationWarning, same profile); inside
    mlqa/drift the thread count has one name: n_jobs appears only as that deprecated
    keyword (its parameter, its renamed() call and the docstring naming it)."""
    import pathlib
    import re
    import warnings

    import numpy as np
    import pandas as pd

    from mlqa.drift import profile

    rng = np.random.default_rng(4)
    ref = pd.DataFrame({"x": rng.normal(size=300), "c": rng.choice(list("ab"), 300)})
    new = profile(ref, n_threads=2)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        old = profile(ref, n_jobs=2)
    assert any(issubclass(w.category, DeprecationWarning) for w in seen)
    assert old.columns.keys() == new.columns.keys()
    assert np.array_equal(old.columns["x"].sample.values, new.columns["x"].sample.values)
    allowed = re.compile(r'n_jobs: Any = UNSET|renamed\("n_jobs", n_jobs|``n_jobs=`` is its')
    root = pathlib.Path(__file__).parents[2] / "mlqa" / "drift"
    stray = [f"{path.name}:{i}: {line.strip()}" for path in sorted(root.rglob("*.py"))
             for i, line in enumerate(path.read_text().splitlines(), 1)
             if "n_jobs" in line and not allowed.search(line)]
    assert stray == []
