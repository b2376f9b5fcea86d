"""Typed errors. Every exception mlqa raises on purpose is one of these."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from mlqa.result import CheckResult


class MlqaError(Exception):
    """Base of mlqa's own exceptions (never raised itself)."""


class InputError(MlqaError, ValueError):
    """Input a check cannot evaluate: the message names the argument or column and what is wrong."""


class DeviceUnavailable(MlqaError, RuntimeError):
    """A device check asked for a device this machine does not have (e.g. CUDA without a GPU).

    The pytest plugin turns it into a skip, or an error under ``--mlqa-require-gpu``.
    """


class ResultError(MlqaError):
    """Base of the exceptions that carry the CheckResult they are about (``.result``)."""

    def __init__(self, result: CheckResult):
        super().__init__(result.message)
        self.result = result

    def __str__(self) -> str:
        return self.result.message


class QualityGateFailure(ResultError, AssertionError):
    """A check's requirement is violated (or is INCONCLUSIVE under a policy that fails it)."""


class CheckError(ResultError, RuntimeError):
    """A check could not run (bad input, missing baseline, device error): outcome ERROR."""


class CheckWaived(ResultError):
    """A failing check is covered by a valid waiver: outcome WAIVED (a skip in pytest/JUnit)."""


class InconclusiveWarning(UserWarning):
    """An INCONCLUSIVE check passed under the ``warn`` policy."""


# Tracebacks and JUnit messages show ``mlqa.QualityGateFailure``, the name users import.
for _cls in (MlqaError, InputError, DeviceUnavailable, QualityGateFailure, CheckError,
             CheckWaived, InconclusiveWarning):
    _cls.__module__ = "mlqa"
