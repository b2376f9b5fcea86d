import stat
import xml.etree.ElementTree as ET

import numpy as np

from mlqa import CheckResult
from mlqa.report.junit import case_properties, promote_errors, result_properties


def test_properties_are_plain_strings_named_mlqa():
    r = CheckResult(name="auc", outcome="fail", check="metric", metric="roc_auc",
                    value=np.float64(0.874), threshold=0.9, comparison=">=", ci=(0.861, 0.887),
                    p_value=None, n=np.int64(2000), message="roc_auc 0.874 < min 0.9")
    props = dict(result_properties(r))
    assert props == {"mlqa.outcome": "fail", "mlqa.check": "metric", "mlqa.metric": "roc_auc",
                     "mlqa.comparison": ">=", "mlqa.value": "0.874", "mlqa.threshold": "0.9",
                     "mlqa.n": "2000", "mlqa.ci_low": "0.861", "mlqa.ci_high": "0.887",
                     "mlqa.message": "roc_auc 0.874 < min 0.9"}
    assert all(type(v) is str for v in props.values())


def test_several_results_in_one_test_keep_unique_names():
    results = [CheckResult(name="a", outcome="pass", value=1),
               CheckResult(name="b", outcome="inconclusive", value=2)]
    props = case_properties(results)
    names = [n for n, _ in props]
    assert len(names) == len(set(names))
    d = dict(props)
    assert d["mlqa.outcome"] == "inconclusive" and d["mlqa.checks"] == "2"
    assert d["mlqa.1.value"] == "1.0" and d["mlqa.2.outcome"] == "inconclusive"


def test_family_properties_are_added():
    class Drifty(CheckResult):
        def family_properties(self):
            return {"drifted_columns": np.int64(3), "dataset drift?": True}

    props = dict(result_properties(Drifty(name="d", outcome="fail")))
    assert props["mlqa.drifted_columns"] == "3" and props["mlqa.dataset_drift_"] == "true"


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="2" skipped="0" tests="3">
<testcase classname="t" name="a"><properties><property name="mlqa.outcome" value="error"/>
</properties><failure message="mlqa.CheckError: bad">trace</failure></testcase>
<testcase classname="t" name="b"><properties><property name="mlqa.outcome" value="fail"/>
</properties><failure message="mlqa.QualityGateFailure: low">trace</failure></testcase>
<testcase classname="t" name="c"><failure message="boom">trace</failure></testcase>
</testsuite></testsuites>"""


def test_promote_errors_only_touches_mlqa_errors(tmp_path):
    path = tmp_path / "j.xml"
    path.write_text(JUNIT)
    assert promote_errors(path) == 1
    cases = {c.get("name"): c for c in ET.parse(path).iter("testcase")}
    assert cases["a"].find("failure") is None
    assert cases["a"].find("error").get("message") == "mlqa.CheckError: bad"
    assert cases["a"].find("error").text == "trace"
    assert cases["b"].find("failure") is not None and cases["c"].find("failure") is not None
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # Jenkins' agent must still read it
    before = path.read_bytes()
    assert promote_errors(path) == 0 and path.read_bytes() == before
