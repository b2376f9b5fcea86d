"""``@pytest.mark.mlqa_slices(slices)``: run a test once per slice of the evaluation data.

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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("mlqa_slices")
    if marker is None:
        return
    # mlqa (and numpy, pandas) are imported only by modules that use the marker
    from mlqa.metrics.slices import make_slices

    if len(marker.args) != 1:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: mlqa_slices takes one "
                                f"positional argument, the slices")
    argname = marker.kwargs.get("argname", "mlqa_slice")
    parts = make_slices(marker.args[0], X=marker.kwargs.get("X"))
    metafunc.parametrize(argname, [pytest.param(s, id=s.name) for s in parts])
