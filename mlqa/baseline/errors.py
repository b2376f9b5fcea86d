"""Errors of baseline records and stores.

They are ``InputError`` subclasses on purpose: a baseline that cannot be read is input the check
cannot evaluate, so the pytest plugin reports it as an ERROR (JUnit ``<error>``), never a pass.
"""

from __future__ import annotations

from mlqa.errors import InputError


class BaselineError(InputError):
    """A baseline could not be found, read or trusted."""


class StoreError(BaselineError):
    """A store could not be reached or refused a request (message never holds credentials)."""


class RecordNotFound(BaselineError):
    """No record (or alias) of that name in the store."""


class CorruptRecord(BaselineError):
    """A record or side file failed its checksum, is truncated, or is not a record at all."""


class UnsafeModelFormat(BaselineError):
    """A model file in a format whose loading can run code, without the explicit trust flag."""


for _cls in (BaselineError, StoreError, RecordNotFound, CorruptRecord, UnsafeModelFormat):
    _cls.__module__ = "mlqa.baseline"
