"""The plugin is loaded on every pytest run: it must register cleanly and cost nothing."""

import subprocess
import sys

import pytest

HEAVY = ("numpy", "pandas", "scipy", "sklearn", "evidently", "torch", "matplotlib", "plotly",
         "duckdb", "pyspark", "mlflow")


def test_loading_the_plugin_imports_nothing_heavy():
    code = ("import sys, pytest_mlqa.plugin, mlqa, mlqa.policy, mlqa.recording; "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.usefixtures("plugins_as_installed")  # every installed plugin, as a user has them
def test_a_run_without_checks_stays_light(pytester):
    pytester.makepyfile(f"""
        import sys

        def test_plain(request):
            assert request.config.pluginmanager.has_plugin("mlqa")
            assert [m for m in {HEAVY!r} if m in sys.modules] == []
        """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=1)
    assert "mlqa:" not in result.stdout.str()  # no summary line when no check ran


@pytest.mark.usefixtures("plugins_as_installed")
def test_markers_are_registered_under_strict_markers(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.mlqa
        def test_quality():
            import mlqa
            mlqa.expect_metric([0, 1], [0, 1], "accuracy", min=0.5, ci=None)

        @pytest.mark.mlqa
        @pytest.mark.gpu
        def test_device():
            pass
        """)
    result = pytester.runpytest_subprocess("--strict-markers", "-m", "mlqa and not gpu",
                                           "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, deselected=1)
    markers = pytester.runpytest_subprocess("--markers").stdout.str()
    assert "@pytest.mark.mlqa:" in markers and "@pytest.mark.gpu:" in markers


def test_options_are_documented_in_help(pytester):
    help_text = pytester.runpytest_subprocess("--help").stdout.str()
    for option in ("--mlqa-inconclusive", "--mlqa-results", "--mlqa-require-gpu",
                   "--mlqa-device"):
        assert option in help_text


def test_require_gpu_turns_the_skip_into_an_error(pytester, jenkins_check):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.gpu
        def test_device():
            pass
        """)
    from mlqa.devices import cuda_unavailable_reason

    result = pytester.runpytest_subprocess("--mlqa-require-gpu", "--junitxml=j.xml",
                                           "-p", "no:cacheprovider")
    if cuda_unavailable_reason() is None:
        result.assert_outcomes(passed=1)
        return
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*--mlqa-require-gpu: *CUDA*torch*"])
    verdict = jenkins_check(pytester.path / "j.xml")
    (case,) = verdict["cases"]
    assert case["status"] == "FAILED" and case["properties"]["mlqa.outcome"] == "error"


def test_properties_without_the_xunit2_warning(pytester):
    """pytest's default family (xunit2) warns when the record_property fixture is used; mlqa
    writes its properties without it, so runs stay warning-free whatever the family."""
    pytester.makepyfile("""
        import mlqa

        def test_metric():
            mlqa.expect_metric([0, 1, 1, 0], [0, 1, 1, 0], "accuracy", min=0.5, ci=None)
        """)
    result = pytester.runpytest_subprocess("--junitxml=j.xml", "-W", "error",
                                           "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "warnings" not in result.parseoutcomes()
    xml = (pytester.path / "j.xml").read_text()
    assert '<property name="mlqa.outcome" value="pass"' in xml
