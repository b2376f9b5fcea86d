"""``@pytest.mark.mlqa_slices(slices)``: run a test once per slice of the evaluation data
(and ``@pytest.mark.mlqa_pairs(groups)``: once per pair ``check_disparity`` compares).

Each slice becomes its own test case, with the slice's name as its id
(``test_recall[region=north]``), so JUnit has one testcase per slice and Jenkins keeps each
slice's history. The test receives a :class:`mlqa.metrics.Slice` in ``mlqa_slice`` (or the
``argname=`` given) and passes it on: ``mlqa.expect_metric(y, p, "recall", min=0.8,
slices=mlqa_slice)`` checks that slice alone, INCONCLUSIVE below ``min_slice_size`` rows.
``slices`` is what ``check_metric(slices=...)`` takes: labels per row (a named pandas Series
gives ``column=value`` ids), a dict of boolean masks, or a column name with ``X=``.
"""

from __future__ import annotations

import pytest

MARKER = ("mlqa_slices(slices, argname='mlqa_slice', X=None): run the test once per slice, "
          "each a test case named by its slice")
PAIRS = ("mlqa_pairs(groups, reference='overall', argname='mlqa_pair'): run the test once per "
         "pair check_disparity compares, each a test case named by its pair")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)
    config.addinivalue_line("markers", PAIRS)


def _marker(metafunc: pytest.Metafunc, name: str, what: str) -> pytest.Mark | None:
    """The test's ``name`` marker, which takes ``what`` as its one positional argument."""
    marker = metafunc.definition.get_closest_marker(name)
    if marker is not None and len(marker.args) != 1:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: {name} takes one "
                                f"positional argument, {what}")
    return marker


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    _pairs(metafunc)
    marker = _marker(metafunc, "mlqa_slices", "the slices")
    if marker is None:
        return
    # mlqa (and numpy, pandas) are imported only by modules that use the marker
    from mlqa.metrics.slices import make_slices

    argname = marker.kwargs.get("argname", "mlqa_slice")
    parts = make_slices(marker.args[0], X=marker.kwargs.get("X"))
    metafunc.parametrize(argname, [pytest.param(s, id=s.name) for s in parts])


def _pairs(metafunc: pytest.Metafunc) -> None:
    """``@pytest.mark.mlqa_pairs(groups, reference=...)``: one test case per compared pair,
    named by it (``test_tpr[B vs overall]``); the test passes ``pair=mlqa_pair`` to
    ``check_disparity``, which decides that pair within the whole family of pairs."""
    marker = _marker(metafunc, "mlqa_pairs", "the groups")
    if marker is None:
        return
    from mlqa.fairness import pair_names

    names = pair_names(marker.args[0], marker.kwargs.get("reference", "overall"))
    metafunc.parametrize(marker.kwargs.get("argname", "mlqa_pair"),
                         [pytest.param(n, id=n) for n in names])
