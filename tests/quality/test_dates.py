"""check_dates: no dates in the future, the newest date within max_age; YAML kind dates."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

import mlqa
from mlqa.quality import check_dates
from mlqa.result import Outcome

NOW = pd.Timestamp("2026-06-01 12:00")


def _frame(last: str = "2026-06-01 06:00", n: int = 200) -> pd.DataFrame:
    return pd.DataFrame({"ts": pd.date_range(end=last, periods=n, freq="h"),
                         "x": np.arange(n, dtype=float)})


def test_fresh_dates_pass_and_stale_ones_fail_with_their_age():
    ok = check_dates(_frame(), now=NOW, max_age="1 day")
    assert ok.outcome is Outcome.PASS and list(ok.columns) == ["ts"]
    stale = check_dates(_frame("2026-05-28"), now=NOW, max_age="36h")
    assert stale.outcome is Outcome.FAIL
    assert "stale: newest value 2026-05-28 00:00:00 is 4 days 12:00:00 old > max_age " \
           "1 days 12:00:00" in stale.message
    assert stale.columns["ts"].value == pytest.approx(4.5 * 86400)


def test_a_date_in_the_future_fails_unless_its_share_is_allowed():
    frame = _frame()
    frame.loc[5, "ts"] = pd.Timestamp("2027-01-01")
    r = check_dates(frame, now=NOW)
    assert r.outcome is Outcome.FAIL and "1 of 200 in the future" in r.message
    # one in 200 is within 10% on its Wilson interval
    assert check_dates(frame, now=NOW, max_future_share=0.1).outcome is Outcome.PASS


def test_timezones_text_columns_and_bad_input():
    aware = _frame().assign(ts=lambda f: f["ts"].dt.tz_localize("Europe/Paris"))
    # 06:00 in Paris is 04:00 UTC: 8 hours before noon UTC
    assert check_dates(aware, now=NOW, max_age="7h").outcome is Outcome.FAIL
    assert check_dates(aware, now=NOW, max_age="9h").outcome is Outcome.PASS
    as_text = _frame().assign(ts=lambda f: f["ts"].astype(str))
    assert check_dates(as_text, ["ts"], now=NOW, max_age="1 day").outcome is Outcome.PASS
    empty = pd.DataFrame({"ts": pd.Series([pd.NaT] * 3)})
    assert check_dates(empty, now=NOW).outcome is Outcome.ERROR
    with pytest.raises(mlqa.InputError, match="max_age must be a duration"):
        check_dates(_frame(), now=NOW, max_age="soon")
    with pytest.raises(mlqa.InputError, match="no datetime column"):
        check_dates(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(mlqa.InputError, match="'x' does not hold dates"):
        check_dates(pd.DataFrame({"x": ["a", "b"]}), ["x"])


def test_yaml_kind_dates(pytester):
    pytester.makeconftest(textwrap.dedent("""
        import pandas as pd
        import pytest

        @pytest.fixture(scope="session")
        def events():
            return pd.DataFrame({"ts": pd.date_range(end="2020-01-01", periods=10, freq="D")})
    """))
    pytester.path.joinpath("gate.mlqa.yaml").write_text(textwrap.dedent("""
        suite: dates
        data:
          events: {fixture: events}
        checks:
          - {id: fresh, kind: dates, data: events, max_age: 2 days}
          - {id: not_future, kind: dates, data: events, columns: [ts]}
    """))
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(failed=1, passed=1)
    assert any("stale: newest value 2020-01-01" in line for line in result.outlines)
