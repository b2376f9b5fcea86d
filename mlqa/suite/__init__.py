"""Suites a gatekeeper can read: ``*.mlqa.yaml`` files of checks, validated against the JSON
Schema shipped beside this module (``schema.json``) and run by the pytest plugin, one test
per check."""

from mlqa.suite.errors import SuiteError
from mlqa.suite.loader import load_suites
from mlqa.suite.model import CheckSpec, Source, Suite
from mlqa.suite.runner import run_check
from mlqa.suite.validate import shipped_schema

__all__ = ["SuiteError", "load_suites", "Suite", "CheckSpec", "Source", "run_check",
           "shipped_schema"]
