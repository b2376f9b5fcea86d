"""``expect``: turn a CheckResult into pass / warning / exception under the active policy."""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any

from mlqa import policy as _policy
from mlqa import recording
from mlqa.errors import CheckError, CheckWaived, InconclusiveWarning, InputError, QualityGateFailure
from mlqa.result import CheckResult, Outcome


def expect(result: CheckResult) -> CheckResult:
    """Return ``result`` if it passes the active policy, else raise.

    FAIL raises ``QualityGateFailure`` (an AssertionError), ERROR raises ``CheckError``,
    WAIVED raises ``CheckWaived`` (the pytest plugin reports it as a skip), INCONCLUSIVE follows
    the policy's ``inconclusive`` setting. A failure the policy's waivers cover becomes WAIVED.
    Every result is published first, so the pytest plugin records it whatever happens next.
    """
    __tracebackhide__ = True  # pytest shows the user's line, not mlqa's frames
    if not isinstance(result, CheckResult):
        raise InputError(f"expect() takes a CheckResult, got {type(result).__name__}")
    result = _apply_waivers(_undeclared(result))
    recording.publish(result)
    outcome = result.outcome
    if outcome is Outcome.PASS:
        return result
    if outcome is Outcome.INCONCLUSIVE:
        rule = _policy.active().inconclusive
        if rule == "fail":
            raise QualityGateFailure(result)
        if rule == "warn":
            warnings.warn(InconclusiveWarning(str(result)), stacklevel=2)
        return result
    if outcome is Outcome.FAIL:
        raise QualityGateFailure(result)
    if outcome is Outcome.WAIVED:
        raise CheckWaived(result)
    raise CheckError(result)


def _undeclared(result: CheckResult) -> CheckResult:
    """A result handed in already WAIVED is an ERROR: only a waiver in the policy's waivers
    file, applied here by :func:`_apply_waivers`, can waive a check. Recording a self-declared
    waiver would show the check as waived in JUnit and the bundle with nobody accountable."""
    if result.outcome is not Outcome.WAIVED:
        return result
    details = {k: v for k, v in result.details.items() if k != "waiver"}
    details["declared_outcome"] = Outcome.WAIVED.value
    return result.replace(
        outcome=Outcome.ERROR, details=details,
        message=(f"{result.name}: the result was handed to expect() already WAIVED; only a "
                 f"waiver in the policy's waivers file (mlqa.policy(waivers=...), "
                 f"--mlqa-waivers) can waive a check, so it is an ERROR "
                 f"(its message was: {result.message})"))


def _apply_waivers(result: CheckResult) -> CheckResult:
    """WAIVED if a valid waiver covers this failing result (never an ERROR)."""
    active = _policy.active()
    failing = result.outcome is Outcome.FAIL or (
        result.outcome is Outcome.INCONCLUSIVE and active.inconclusive == "fail")
    if not active.waivers or not failing:
        return result
    from mlqa import provenance, waivers

    check_id = recording.current_test() or result.name
    waiver = active.waivers.find(check_id, waivers.today(), provenance.model_hashes())
    return result if waiver is None else waivers.waive(result, waiver)


def expecting(check: Callable[..., CheckResult], family: str) -> Callable[..., CheckResult]:
    """Build ``expect_<family>`` from ``check_<family>``.

    Bad input raised by the check becomes an ERROR result, so it is recorded like any other
    outcome (properties, bundle) before ``CheckError`` is raised with its text (once).
    """

    @functools.wraps(check)
    def expect_check(*args: Any, **kwargs: Any) -> CheckResult:
        __tracebackhide__ = True
        recording.check_starting()
        try:
            result = check(*args, **kwargs)
        except InputError as exc:
            metric = _argument(check, args, kwargs, "metric")
            metric = metric if isinstance(metric, str) else getattr(metric, "__name__", None)
            name = metric or family
            failed = CheckResult(name=name, outcome=Outcome.ERROR, check=family, metric=metric,
                                 message=f"{name} could not be evaluated: {exc}")
            try:
                return expect(failed)
            except CheckError as err:
                # the ERROR's message already holds the InputError's whole text: chaining it
                # would print the one error twice (pytest shows the cause, then this)
                raise err from None
        return expect(result)

    expect_check.__name__ = f"expect_{family}"
    expect_check.__qualname__ = expect_check.__name__
    expect_check.__doc__ = (f"``check_{family}(...)`` then ``expect(result)``: returns the result "
                            f"or raises.\n\n" + (check.__doc__ or ""))
    return expect_check


def _argument(func: Callable[..., Any], args: tuple, kwargs: dict, name: str) -> Any:
    """The value ``func`` would receive for parameter ``name`` (its default if not given)."""
    try:
        bound = inspect.signature(func).bind_partial(*args, **kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    return bound.arguments.get(name)
