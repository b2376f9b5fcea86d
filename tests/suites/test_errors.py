"""Each class of suite error, at its exact file:line:column, with what to do about it."""

import textwrap

import pytest

from mlqa.suite import SuiteError, load_suites

GOOD = """\
suite: demo
data:
  holdout: {fixture: holdout}
  prod: {path: prod.csv}
model: {fixture: model}
checks:
  - id: auc
    kind: metric
    data: holdout
    target: y
    metric: roc_auc
    min: 0.9
"""


def problems(tmp_path, text):
    path = tmp_path / "s.mlqa.yaml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(SuiteError) as err:
        load_suites(path, display="s.mlqa.yaml")
    return str(err.value).splitlines(), err.value


def test_the_good_suite_loads(tmp_path):
    (tmp_path / "s.mlqa.yaml").write_text(GOOD)
    (suite,) = load_suites(tmp_path / "s.mlqa.yaml")
    assert suite.name == "demo" and [c.id for c in suite.checks] == ["auc"]
    assert suite.checks[0].line == 7 and suite.checks[0].column == 5
    assert suite.data["prod"].path == tmp_path / "prod.csv"


@pytest.mark.parametrize("old, new, expected", [
    # unknown key, with the likely meant one
    ("    min: 0.9", "    mni: 0.9",
     "s.mlqa.yaml:12:5: unknown key 'mni' in check 'auc' (did you mean 'min'?); allowed: id, "
     "kind, description, marks, data, target, metric, prediction, min, max, confidence, ci, "
     "n_resamples, min_slice_size, max_tail_share, slices"),
    # wrong type
    ("    min: 0.9", "    min: high",
     "s.mlqa.yaml:12:10: check 'auc': 'min' must be a number or empty, got 'high'"),
    # bad value of a closed set
    ("    kind: metric", "    kind: metrik",
     "s.mlqa.yaml:8:11: check 'auc': 'kind' must be one of: metric, regression, drift, schema, "
     "missing, ranges, categories, duplicates, row_count, dates, latency, latency_regression, "
     "trend, endpoint_latency, disparity, shadow; got "
     "'metrik' (did you mean 'metric'?)"),
    # out of range
    ("    min: 0.9", "    confidence: 1.5",
     "s.mlqa.yaml:12:17: check 'auc': 'confidence' must be < 1, got 1.5"),
    # a required key missing: at the check
    ("    target: y\n", "",
     "s.mlqa.yaml:7:5: check 'auc' lacks the required key 'target'"),
    # a data source of neither form
    ("  prod: {path: prod.csv}", "  prod: {file: prod.csv}",
     "s.mlqa.yaml:4:9: data source 'prod' must be a file or a pytest fixture (with the key "
     "'path' or 'fixture'), got a mapping"),
    ("  prod: {path: prod.csv}", "  prod: {path: prod.csv, formt: csv}",
     "s.mlqa.yaml:4:26: unknown key 'formt' in data source 'prod' (did you mean 'format'?); "
     "allowed: path, format"),
    # a top-level key
    ("suite: demo", "suit: demo",
     "s.mlqa.yaml:1:1: unknown key 'suit' in the suite (did you mean 'suite'?); allowed: "
     "suite, description, marks, data, model, baseline, checks"),
    # an id that cannot be part of a test id
    ("  - id: auc", "  - id: roc auc",
     "s.mlqa.yaml:7:9: check 'roc auc': 'id' must be letters, digits, _ . - (it becomes part "
     "of the test id), got 'roc auc'"),
])
def test_schema_errors(tmp_path, old, new, expected):
    assert old in GOOD
    lines, err = problems(tmp_path, GOOD.replace(old, new))
    assert lines == [expected]
    assert err.file == "s.mlqa.yaml" and f":{err.line}:{err.column}:" in expected


@pytest.mark.parametrize("old, new, expected", [
    ("    data: holdout", "    data: holdot",
     "s.mlqa.yaml:9:11: check 'auc': 'data' names the data source 'holdot', which is not under "
     "data: (did you mean 'holdout'?); known: holdout, prod"),
    ("    metric: roc_auc", "    metric: roc_acu",
     "s.mlqa.yaml:11:13: check 'auc': 'metric': unknown metric 'roc_acu' (did you mean "
     "'roc_auc'?); see docs/metrics.md for the names"),
    ("model: {fixture: model}\n", "",
     "s.mlqa.yaml:6:5: check 'auc' needs a model: add 'model:' to the suite or a prediction "
     "column"),
])
def test_semantic_errors(tmp_path, old, new, expected):
    lines, _ = problems(tmp_path, GOOD.replace(old, new))
    assert lines == [expected]


def test_duplicate_check_ids_and_keys(tmp_path):
    twice = GOOD + "  - id: auc\n    kind: row_count\n    data: prod\n"
    assert problems(tmp_path, twice)[0] == [
        "s.mlqa.yaml:13:9: duplicate check id 'auc' (first at line 7)"]
    assert problems(tmp_path, GOOD + "    min: 0.8\n")[0] == [
        "s.mlqa.yaml:13:5: duplicate key 'min' (first given at line 12; the second would "
        "silently win)"]


def test_yaml_syntax_and_shape(tmp_path):
    assert problems(tmp_path, GOOD.replace("    min: 0.9", "    min: [0.9"))[0] == [
        "s.mlqa.yaml:13:1: not valid YAML: expected ',' or ']', but got '<stream end>'"]
    assert problems(tmp_path, "- just\n- a list\n")[0] == [
        "s.mlqa.yaml:1:1: a suite is a mapping with 'checks:' (and 'data:', 'model:', "
        "'baseline:')"]
    assert problems(tmp_path, "# nothing\n")[0] == [
        "s.mlqa.yaml:1:1: is empty: a suite needs at least 'checks:'"]


def test_every_problem_is_reported_at_once(tmp_path):
    text = GOOD.replace("    min: 0.9", "    mni: 0.9").replace("prod.csv}", "prod.csv, x: 1}")
    lines, err = problems(tmp_path, text)
    assert [line.split(": ")[0] for line in lines] == ["s.mlqa.yaml:4:26", "s.mlqa.yaml:12:5"]
    assert (err.line, err.column) == (4, 26)


def test_each_error_is_printed_once(pytester):
    """A failing YAML check and a Python check given bad input: pytest's report shows each
    message once (the Python one was printed twice: the InputError, then the CheckError that
    carried its text, chained to it)."""
    pytester.makefile(".csv", data="a,p\n1,1\n0,0\n1,1\n")
    pytester.makefile(".mlqa.yaml", s=textwrap.dedent("""\
        suite: s
        data:
          current: {path: data.csv}
        checks:
          - id: acc
            kind: metric
            data: current
            target: nope
            prediction: p
            metric: accuracy
            min: 0.5
        """))
    pytester.makepyfile(test_x="""
        import mlqa

        def test_bad_metric():
            mlqa.expect_metric([0, 1, 0, 1], [0, 1, 1, 0], metric="acuracy", min=0.9)
        """)
    out = pytester.runpytest_subprocess("-rN", "-p", "no:cacheprovider").stdout.str()
    for message in ("target column 'nope' is not in data source 'current'",
                    "unknown metric 'acuracy' (did you mean 'accuracy'?)"):
        assert out.count(message) == 1, out
    assert "The above exception was the direct cause" not in out
