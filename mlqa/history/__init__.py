"""The history of a check across builds, kept in the baseline store: one typed row per check
per run (:mod:`mlqa.history.row`), written and listed safely under concurrent writers
(:mod:`mlqa.history.store`), read back as series (:mod:`mlqa.history.series`)."""

from mlqa.history.row import APPROVED, RELEASED, Build, HistoryRow, check_id, check_ids
from mlqa.history.series import History, Point, Series, read_history, read_series
from mlqa.history.store import append_run, mark

__all__ = ["APPROVED", "RELEASED", "Build", "HistoryRow", "History", "Point", "Series",
           "append_run", "check_id", "check_ids", "mark", "read_history", "read_series"]
