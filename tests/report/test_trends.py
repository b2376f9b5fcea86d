"""``mlqa report --history N``: 30 builds of a model that ratchets down and then steps down,
each a real pytest run that adds to the store's history, some promoted by ``mlqa baseline
promote`` and one released, drawn in headless Chromium (offline): an interval band and a
requirement line per check, approved releases marked, the current build ringed, every point
naming its build; a changed threshold starts a new series that says so; a damaged history
file refuses the page, naming the file."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from _browser import Node, parse_dom

from mlqa.cli import main
from mlqa.history import read_history
from mlqa.history.bundle import mark_run
from mlqa.history.store import rows_key

BUILDS = 30
NODE = "test_build.py::test_quality"
APPROVED, RELEASED = (5, 12, 21), 12
# One build's checks (BUILD_NUMBER picks the build): accuracy ratchets down 0.2 points a
# build, then steps down 2 points at build 20; the recall check's threshold is raised at build
# 25 (a new series). Each build saves its predictions, so that it can be promoted.
RUN = textwrap.dedent("""
    import os
    import numpy as np
    import mlqa

    BUILD = int(os.environ["BUILD_NUMBER"])

    def test_quality(mlqa_baseline):
        rng = np.random.default_rng(BUILD)
        y = rng.integers(0, 2, 3000)
        accuracy = 0.93 - 0.002 * BUILD - (0.02 if BUILD >= 20 else 0.0)
        pred = np.where(rng.random(3000) < accuracy, y, 1 - y)
        mlqa_baseline.save_predictions("holdout", y, pred)
        mlqa.expect_metric(y, pred, "accuracy", min=0.8)
        mlqa.expect_metric(y, pred, "recall", min=0.8 if BUILD < 25 else 0.82)
""")


def run_builds(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, count: int
               ) -> tuple[Path, Path]:
    """Run ``count`` builds; returns (the store, the last build's results folder)."""
    pytester.makepyfile(test_build=RUN)
    store = pytester.path / "store"
    for build in range(1, count + 1):
        monkeypatch.setenv("BUILD_NUMBER", str(build))
        monkeypatch.setenv("BUILD_URL", f"https://ci.example/job/model/{build}/")
        # one token: a path given as its own argument would move pytest's rootdir (node ids)
        pytester.runpytest("--mlqa-results", f"r{build}", f"--mlqa-baseline={store}",
                           "--mlqa-save-baseline", "-p", "no:cacheprovider"
                           ).assert_outcomes(passed=1)
        if build in APPROVED:
            assert main(["baseline", "promote", str(pytester.path / f"r{build}"),
                         "--by", "gatekeeper"]) == 0
        if build == RELEASED:  # what a publisher calls once the release has left
            assert mark_run(pytester.path / f"r{build}", "released") is not None
    return store, pytester.path / f"r{count}"


def _points(figure: Node) -> list[Node]:
    return figure.find_all("g", class_="point")


def test_the_trend_page_in_chromium(pytester, monkeypatch, chromium):
    store, results = run_builds(pytester, monkeypatch, BUILDS)
    out = pytester.path / "report.html"
    assert main(["report", str(results), "--history", str(BUILDS), "-o", str(out)]) == 0
    dom_text, requests = chromium(out, "--dump-dom")
    assert requests == []  # self-contained: nothing reached for
    dom = parse_dom(dom_text)
    figures = {f.attrs["data-check"]: f for f in dom.find_all("figure", class_="trend")}
    assert sorted(figures) == [f"{NODE}::accuracy", f"{NODE}::recall"]

    accuracy = figures[f"{NODE}::accuracy"]
    points = _points(accuracy)
    assert [p.attrs["data-build"] for p in points] == [f"#{b}" for b in range(1, BUILDS + 1)]
    titles = [p.find("title").text for p in points]
    assert all(t.startswith(f"build #{b};") for b, t in zip(range(1, 31), titles, strict=True))
    assert all("CI " in t and "n=3000" in t for t in titles)
    # each point's figures are the check's own: the history holds the typed rows
    history = read_history(store, last=BUILDS)
    rows = [p.row for p in history.current(f"{NODE}::accuracy").points]
    assert [r.value for r in rows][-1] is not None
    assert all(f"accuracy {_num(r.value)}" in t for r, t in zip(rows, titles, strict=True))
    # the band (one polygon over 30 intervals), the requirement line, the releases
    assert len(accuracy.find_all("polygon", class_="band")) == 1
    (requirement,) = accuracy.find_all("line", class_="requirement")
    assert requirement.find("title").text == "min 0.8"
    approved = [p.attrs["data-build"] for p in points if "approved" in p.attrs["class"].split()]
    assert approved == ["#5", "#12", "#21"]
    assert [p.attrs["data-build"] for p in points if "released" in p.attrs["class"]] == ["#12"]
    assert len(accuracy.find_all("line", class_="release-rule")) == 3
    (current,) = [p for p in points if "current" in p.attrs["class"].split()]
    assert current.attrs["data-build"] == "#30"
    assert current.find("title").text.endswith("this build")
    # each point links to its Jenkins build
    assert [a.attrs["href"] for a in accuracy.find_all("a")] == \
        [f"https://ci.example/job/model/{b}/" for b in range(1, BUILDS + 1)]

    # the recall threshold moved at build 25: its plot is the new series, and says so
    recall = figures[f"{NODE}::recall"]
    assert [p.attrs["data-build"] for p in _points(recall)] == [f"#{b}" for b in range(25, 31)]
    note = recall.find("figcaption", class_="series-note").text
    assert "build #25" in note and "threshold 0.8 \u2192 0.82" in note


def _num(value: float) -> str:
    from mlqa._text import fmt_num

    return fmt_num(value)


def test_a_damaged_or_absent_history_refuses_the_page(pytester, monkeypatch, capsys, tmp_path):
    store, results = run_builds(pytester, monkeypatch, 12)
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    capsys.readouterr()
    entries = sorted(p.name for p in (copy / "history" / "runs").iterdir())
    damaged = copy / rows_key(entries[3])
    damaged.write_bytes(damaged.read_bytes()[:-40])
    out = tmp_path / "r.html"
    assert main(["report", str(results), "--history", "12", "--history-store", str(copy),
                 "-o", str(out)]) == 2
    said = capsys.readouterr()
    assert rows_key(entries[3]) in said.out + said.err
    assert not out.exists()
    # the damaged build is older than the last 5: those still draw
    assert main(["report", str(results), "--history", "5", "--history-store", str(copy),
                 "-o", str(out)]) == 0
    # no history at all: refused, naming the store
    empty = tmp_path / "empty"
    assert main(["report", str(results), "--history", "10", "--history-store", str(empty),
                 "-o", str(out)]) == 2
    assert f"no history in {empty}" in "".join(capsys.readouterr())


RENAMED = textwrap.dedent("""
    import os
    import numpy as np
    import mlqa

    rng = np.random.default_rng(1)
    Y = rng.integers(0, 2, 2000)
    PRED = np.where(rng.random(2000) < 0.1, 1 - Y, Y)

    def test_quality():
        label = os.environ.get("LABEL")  # the display name a later build gives the check
        mlqa.expect_metric(Y, PRED, "accuracy", min=0.8, name=label)
        mlqa.expect_metric(Y, PRED, "recall", min=0.8)
""")


def test_plot_csv_names_survive_a_renamed_display_label(pytester, monkeypatch):
    """Jenkins' Plot plugin loses a trend when its CSV's name changes: the names follow the
    check id (what is measured), so renaming a check keeps them."""
    pytester.makepyfile(test_q=RENAMED)
    names = []
    for build, label in (("1", None), ("2", "accuracy on the holdout")):
        if label:
            monkeypatch.setenv("LABEL", label)
        pytester.runpytest("--mlqa-results", f"r{build}", "-p", "no:cacheprovider"
                           ).assert_outcomes(passed=1)
        assert main(["report", str(pytester.path / f"r{build}"), "--plot-csv",
                     str(pytester.path / f"csv{build}")]) == 0
        names.append(sorted(p.name for p in (pytester.path / f"csv{build}").glob("*.csv")))
    assert names[0] == names[1]
    assert "mlqa-test_q.py.test_quality-accuracy.csv" in names[0]
