"""check_trend: outcomes, messages, typed result, bad input; the q-statistic against a direct
sum over its definition."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import mlqa
from mlqa import InputError, Outcome
from mlqa.trend.check import TrendResult
from mlqa.trend.edivisive import _qhat_best, e_divisive


def _accuracy(levels: list[float], seed: int) -> np.ndarray:
    """Accuracies measured on 5,000 rows: about 0.4 points of run-to-run noise."""
    return np.random.default_rng(seed).binomial(5000, levels) / 5000


STEP = _accuracy([0.90] * 20 + [0.885] * 10, seed=1)  # a 1.5-point drop from build 21


def test_a_drop_fails_and_names_the_build_the_means_and_the_p_value() -> None:
    builds = [f"#{n}" for n in range(101, 131)]
    r = mlqa.check_trend(STEP, builds=builds, metric="accuracy")
    assert isinstance(r, TrendResult)
    assert r.outcome is Outcome.FAIL
    (cp,) = r.change_points
    assert (cp.build, cp.index) == ("#121", 20)
    assert cp.mean_before == pytest.approx(STEP[:20].mean())
    assert cp.mean_after == pytest.approx(STEP[20:].mean())
    assert cp.shift == pytest.approx(cp.mean_after - cp.mean_before)
    assert cp.worse and cp.fails and cp.p_value <= 0.05
    assert "from build #121" in r.message and f"p={cp.p_value:.4g}" in r.message
    assert f"{cp.mean_before:.4g}" in r.message and f"{cp.mean_after:.4g}" in r.message
    assert (r.value, r.baseline, r.mean_after, r.p_value) == (
        cp.shift, cp.mean_before, cp.mean_after, cp.p_value)
    assert r.n == 30 and r.check == "trend" and r.metric == "accuracy"
    assert r.history == tuple(STEP.tolist()) and r.builds == tuple(builds)


def test_a_gain_is_reported_and_passes() -> None:
    r = mlqa.check_trend(STEP[::-1].copy())  # the same shift, upwards
    assert r.outcome is Outcome.PASS
    (cp,) = r.change_points
    assert cp.shift > 0 and not cp.worse and not cp.fails
    assert "better" in r.message


def test_lower_is_better_fails_a_rise() -> None:
    rng = np.random.default_rng(5)
    p99 = np.r_[20 * rng.lognormal(0, 0.05, 20), 24 * rng.lognormal(0, 0.05, 10)]
    r = mlqa.check_trend(p99, greater_is_better=False, metric="p99_ms")
    assert r.outcome is Outcome.FAIL
    assert r.change_points[0].index == 20 and r.change_points[0].shift > 3
    assert "shifted up" in r.message
    assert mlqa.check_trend(p99, greater_is_better=True).outcome is Outcome.PASS


def test_min_magnitude_in_the_metric_units_lets_a_small_shift_pass() -> None:
    small = mlqa.check_trend(STEP, min_magnitude=0.02)  # the drop is 1.5 points
    assert small.outcome is Outcome.PASS
    assert small.change_points and not small.change_points[0].fails
    assert "below min_magnitude 0.02" in small.message
    assert mlqa.check_trend(STEP, min_magnitude=0.01).outcome is Outcome.FAIL


def test_short_history_is_inconclusive_never_pass() -> None:
    obvious = np.r_[np.full(4, 0.90), np.full(4, 0.80)] + np.tile([0.001, -0.001], 4)
    r = mlqa.check_trend(obvious)  # min_history=10 by default
    assert r.outcome is Outcome.INCONCLUSIVE and not r.passed
    assert "8 build(s)" in r.message and "not enough history" in r.message
    assert r.change_points == ()
    assert mlqa.check_trend(obvious, min_history=8).outcome is Outcome.FAIL


def test_no_change_passes_with_the_refused_split() -> None:
    r = mlqa.check_trend(_accuracy([0.9] * 30, seed=3))
    assert r.outcome is Outcome.PASS and r.change_points == ()
    assert r.refused_p_value is not None and r.refused_p_value > 0.05
    assert r.value is None and r.p_value is None
    flat = mlqa.check_trend(np.full(12, 0.9))  # a constant history has no shift
    assert flat.outcome is Outcome.PASS and flat.refused_p_value == 1.0


def test_seeded_and_reproducible() -> None:
    noisy = _accuracy([0.90] * 15 + [0.895] * 15, seed=4)
    runs = [mlqa.check_trend(noisy, random_state=7) for _ in range(2)]
    assert runs[0] == runs[1]
    g = mlqa.check_trend(noisy, random_state=np.random.default_rng(7))
    assert g.change_points == runs[0].change_points


def test_result_reads_back_from_the_bundle_and_displays_its_change_points() -> None:
    r = mlqa.check_trend(STEP, metric="accuracy")
    back = mlqa.CheckResult.from_dict(r.to_dict())
    assert back == r and isinstance(back, TrendResult)
    shown = r.display()
    (section,) = shown.sections
    (table,) = section.blocks
    assert table.rows[0][0] == "21" and table.highlight == (True,)
    assert "from build 21" in shown.cells.value and "drop" in shown.cells.requirement
    assert r.family_properties()["change_build"] == "21"
    assert r.levels() == {"before": r.baseline, "after": r.mean_after}


def test_expect_trend_raises_on_a_drop() -> None:
    with pytest.raises(mlqa.QualityGateFailure, match="from build 21"):
        mlqa.expect_trend(STEP)
    assert mlqa.expect_trend(STEP[::-1].copy()).passed


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"values": [0.9, float("nan")] * 6}, "non-finite"),
    ({"values": [0.9, float("inf")] * 6}, "non-finite"),
    ({"values": [0.9, None] * 6}, "missing"),
    ({"values": ["a"] * 12}, "must be numbers"),
    ({"values": [True, False] * 6}, "must be numbers"),
    ({"values": []}, "empty"),
    ({"values": np.ones((12, 2))}, "1-D"),
    ({"builds": list(range(11))}, "builds has 11 labels but values has 12"),
    ({"builds": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 11]}, "'11' twice"),
    ({"builds": [""] + [str(i) for i in range(11)]}, "blank"),
    ({"alpha": 1.5}, "alpha"),
    ({"alpha": 0.01, "n_permutations": 50}, "n_permutations must be an integer >= 99"),
    ({"n_permutations": True}, "n_permutations"),
    ({"min_magnitude": -0.1}, "min_magnitude"),
    ({"min_size": 0}, "min_size"),
    ({"min_history": 3}, "min_history must be an integer >= 4"),
    ({"greater_is_better": "yes"}, "greater_is_better"),
    ({"random_state": "seed"}, "random_state"),
])
def test_bad_input_is_an_input_error_naming_it(kwargs: dict, match: str) -> None:
    args = {"values": np.linspace(0.9, 0.8, 12), **kwargs}
    with pytest.raises(InputError, match=match):
        mlqa.check_trend(args.pop("values"), **args)


def _qhat_direct(z: np.ndarray, tau: int, kappa: int) -> float:
    """Matteson & James' q-statistic for X = z[:tau], Y = z[tau:kappa], summed term by term."""
    x, y = z[:tau], z[tau:kappa]
    n, m = len(x), len(y)
    between = sum(abs(a - b) for a in x for b in y) * 2 / (m * n)
    wx = sum(abs(a - b) for a, b in itertools.combinations(x, 2)) / (n * (n - 1) / 2) \
        if n > 1 else 0.0
    wy = sum(abs(a - b) for a, b in itertools.combinations(y, 2)) / (m * (m - 1) / 2) \
        if m > 1 else 0.0
    return m * n / (m + n) * (between - wx - wy)


@pytest.mark.parametrize("min_size", [1, 2, 3])
def test_the_vectorised_statistic_equals_its_definition(min_size: int) -> None:
    rng = np.random.default_rng(min_size)
    batch = rng.normal(size=(4, 11)) + np.r_[np.zeros(6), np.ones(5)]
    q, tau = _qhat_best(batch, min_size)
    for row, z in enumerate(batch):
        pairs = [(t, k) for t in range(min_size, 12) for k in range(t + min_size, 12)]
        values = {pair: _qhat_direct(z, *pair) for pair in pairs}
        best = max(values.values())
        assert q[row] == pytest.approx(best, rel=1e-12)
        assert tau[row] == min(t for (t, _), v in values.items() if v >= best - 1e-12)


def test_segments_keep_min_size_and_the_search_stops_at_the_first_refusal() -> None:
    z = np.r_[np.zeros(6), np.full(6, 5.0), np.zeros(6)] + np.tile([0.01, -0.01, 0.0], 6)
    found = e_divisive(z, alpha=0.05, n_permutations=199, min_size=3,
                       rng=np.random.default_rng(0))
    assert [s.index for s in found.splits] == [6, 12]
    assert all(s.p_value <= 0.05 for s in found.splits)
    assert found.refused_p_value is None or found.refused_p_value > 0.05
    # (1 + count) / (R + 1): never below 1 / (R + 1), so never 0
    assert min(s.p_value for s in found.splits) == pytest.approx(1 / 200)
