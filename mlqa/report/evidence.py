"""The run's own account of itself (``session.json``), and the check that the bundle agrees.

The results bundle is the gate's only evidence, so it has to be complete. pytest knows what
really happened to every test; the plugin writes that down beside the bundle: which tests were
selected, how each ended (``passed``, ``failed``, ``error``, ``skipped``), whether it belongs to
an mlqa suite and how many bundle lines it left, and whether the session finished. The file is
written as ``finished: false`` when the run starts and rewritten at its end, so a run that was
killed leaves a record saying so.

:func:`verify` is what the gate and the report run first. It refuses (``InputError``: the
commands exit 2) when the bundle cannot show that every test left its evidence:

- there is no session record, or the run did not finish, or it ended early (``-x``,
  ``--maxfail``, an interrupt, a collection error, fewer tests ran than were selected);
- an mlqa test left no line, or a different number of lines than the run wrote;
- the bundle holds lines for a test the session never ran;
- pytest failed a test whose lines all say it passed.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlqa._atomic import write_atomic
from mlqa._files import load_json, read_regular
from mlqa.errors import InputError
from mlqa.report.bundle import BundleRecord
from mlqa.result import Outcome

SESSION_FILE = "session.json"
SCHEMA = 1
# How pytest ended each test, in the words the record uses.
PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"
TEST_OUTCOMES = (PASSED, FAILED, ERROR, SKIPPED)
_SHOWN = 5  # node ids named in one message


def start(directory: str | os.PathLike[str], run_id: str) -> None:
    """Mark the run as started: until :func:`finish` rewrites it, the bundle is unfinished."""
    _write(directory, {"schema": SCHEMA, "finished": False, "run_id": run_id})


def finish(directory: str | os.PathLike[str], *, run_id: str,
           tests: Mapping[str, Mapping[str, Any]], selected: int | None,
           ended_early: str | None, exitstatus: int, collection_errors: Sequence[str] = (),
           narrowed_by: Sequence[str] = (), deselected: int | None = None) -> Path:
    """Write the finished session: ``tests`` maps node id -> ``{"outcome", "mlqa",
    "records"}`` (and ``"saved_baseline": true`` for a test that saved into the run's
    baseline record); ``narrowed_by`` the options that ran less than the whole suite (``-k
    EXPR``, ``--lf``...) and ``deselected`` how many tests they left out (None: unknown, as
    under pytest-xdist, where the workers collect)."""
    counts = Counter(str(t.get("outcome")) for t in tests.values())
    return _write(directory, {
        "schema": SCHEMA, "finished": True, "exitstatus": int(exitstatus), "run_id": run_id,
        "narrowed_by": list(narrowed_by), "deselected": deselected,
        "ended_early": ended_early, "selected": selected,
        "collection_errors": sorted(collection_errors),
        "counts": {o: counts.get(o, 0) for o in TEST_OUTCOMES},
        "tests": {nodeid: dict(t) for nodeid, t in sorted(tests.items())},
    })


def _write(directory: str | os.PathLike[str], doc: Mapping[str, Any]) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return write_atomic(directory / SESSION_FILE, json.dumps(doc, indent=1, sort_keys=True)
                        + "\n")


def read(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The session record of a bundle folder; an InputError when it is missing or unreadable."""
    path = Path(folder) / SESSION_FILE
    if not os.path.lexists(path):
        raise InputError(f"{folder}: no session record ({SESSION_FILE}): the bundle cannot show "
                         f"that every test left its evidence; gate a folder written by "
                         f"pytest --mlqa-results")
    raw = read_regular(path, "session record")  # a FIFO, a symlink loop: refused, said so
    try:
        doc = load_json(raw.decode("utf-8"), str(path))
    except InputError:
        raise
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: unreadable session record ({type(exc).__name__})") from None
    if not isinstance(doc, dict) or type(doc.get("schema")) is not int:
        raise InputError(f"{path}: not an mlqa session record (field 'schema')")
    if doc["schema"] != SCHEMA:
        raise InputError(f"{path}: session schema {doc['schema']} is not one this mlqa reads "
                         f"({SCHEMA})")
    return doc


def partial(session: Mapping[str, Any]) -> str | None:
    """Why the run judged less than the whole suite (options that deselected tests), or None."""
    narrowed = [str(o) for o in session.get("narrowed_by") or ()]
    deselected = session.get("deselected")
    if not narrowed or deselected == 0:
        return None
    count = "some tests" if not isinstance(deselected, int) else \
        f"{deselected} test{'s' * (deselected != 1)}"
    return f"{count} deselected by {', '.join(narrowed)}"


def verify(records: Sequence[BundleRecord], session: Mapping[str, Any], where: str) -> None:
    """Refuse (InputError) unless ``records`` are the complete evidence of ``session``."""
    if session.get("finished") is not True:
        raise InputError(f"{where}: the run did not finish (it crashed or was killed before "
                         f"the end of the session): its evidence is incomplete")
    run_id = session.get("run_id")
    if not isinstance(run_id, str) or not run_id:
        raise InputError(f"{where}: the session record has no run id: it cannot show which "
                         f"lines are its own")
    strays = sorted({r.nodeid for r in records if r.run_id != run_id})
    if strays:
        raise InputError(f"{where}: line(s) of another run in the bundle ({_some(strays)}): "
                         f"a line must carry this run's id {run_id}")
    tests = session.get("tests")
    if not isinstance(tests, Mapping) or not all(
            isinstance(t, Mapping) and t.get("outcome") in TEST_OUTCOMES
            and type(t.get("records")) is int for t in tests.values()):
        raise InputError(f"{where}: session record field 'tests' is malformed")
    errors = session.get("collection_errors") or []
    if errors:
        raise InputError(f"{where}: the run had {len(errors)} collection error(s) "
                         f"({_some(errors)}): tests in them never ran")
    if session.get("ended_early"):
        raise InputError(f"{where}: the run ended early ({session['ended_early']}): "
                         f"{len(tests)} of {session.get('selected')} selected tests ran")
    selected = session.get("selected")
    if isinstance(selected, int) and len(tests) < selected:
        raise InputError(f"{where}: the run ended early: {len(tests)} of {selected} selected "
                         f"tests ran")
    counts = Counter(str(t["outcome"]) for t in tests.values())
    said = session.get("counts") or {}
    if any(int(said.get(o, 0)) != counts.get(o, 0) for o in TEST_OUTCOMES):
        raise InputError(f"{where}: session counts {dict(said)} disagree with its tests "
                         f"{dict(counts)}")
    lines: Counter[str] = Counter(r.nodeid for r in records)
    strangers = sorted(set(lines) - set(tests))
    if strangers:
        raise InputError(f"{where}: bundle and session disagree: the bundle holds lines for "
                         f"test(s) the session never ran ({_some(strangers)})")
    # a test that only saved into the run's baseline record owes no check (its evidence is
    # the record, judged when it is promoted and when later runs compare against it)
    missing = sorted(n for n, t in tests.items()
                     if t.get("mlqa") and not t.get("saved_baseline") and lines[n] == 0)
    if missing:
        raise InputError(f"{where}: evidence missing: {len(missing)} mlqa test(s) left no "
                         f"line in the bundle ({_some(missing)})")
    uneven = sorted(n for n, t in tests.items() if lines[n] != t["records"])
    if uneven:
        n = uneven[0]
        raise InputError(f"{where}: bundle and session disagree: {n} wrote "
                         f"{tests[n]['records']} line(s), the bundle holds {lines[n]}"
                         + (f" (and {len(uneven) - 1} more test(s))" if len(uneven) > 1
                            else ""))
    worse: dict[str, bool] = {}
    for r in records:
        result = r.check_result
        worse[r.nodeid] = worse.get(r.nodeid, False) or result is None \
            or result.outcome is not Outcome.PASS
    hidden = sorted(n for n, t in tests.items() if t["outcome"] in (FAILED, ERROR)
                    and n in worse and not worse[n])
    if hidden:
        raise InputError(f"{where}: bundle and session disagree: pytest reports "
                         f"{_some(hidden)} as {tests[hidden[0]]['outcome']}, but its bundle "
                         f"lines all passed")


# -- tests a worker was running when it died ---------------------------------------------------
#
# A pytest-xdist worker killed inside a test (os._exit, SIGSEGV, SIGKILL, the OOM killer) sends
# no report for it: the controller only learns "worker gw0 crashed while running <nodeid>", and
# not whether that test belonged to the mlqa suite (a marker, or a check it had recorded, lives
# in the worker). So while a worker runs an mlqa-suite test it keeps a small marker file naming
# it, written when membership becomes known and removed when the test ends. A marker still
# there at the end of the session is a suite test whose worker died: the controller gives it an
# ERROR line. The markers are written only by workers and removed by the controller.
_RUNNING_GLOB = "running-*.json"


def mark_running(directory: str | os.PathLike[str], worker: str, nodeid: str) -> None:
    """Note that ``worker`` is running the mlqa-suite test ``nodeid``. A plain write, no fsync
    (once per suite test): a killed process leaves what it wrote in the OS's cache, and a
    marker torn by a kill mid-write is still read as a crashed, unknown test."""
    (Path(directory) / f"running-{worker}.json").write_text(
        json.dumps({"worker": worker, "nodeid": nodeid}) + "\n", encoding="utf-8")


def clear_running(directory: str | os.PathLike[str], worker: str) -> None:
    """The test ``worker`` was running ended (whatever its outcome)."""
    (Path(directory) / f"running-{worker}.json").unlink(missing_ok=True)


def crashed_tests(directory: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """``(nodeid, worker)`` of each mlqa-suite test a worker was running when it died; the
    markers are removed. A marker that cannot be read still names its worker: its test is then
    unknown (``"?"``), which the gate refuses as a line for a test the session never ran."""
    found = []
    for path in sorted(Path(directory).glob(_RUNNING_GLOB)):
        worker = path.stem.removeprefix("running-")
        try:
            # a planted FIFO or a deep document is an unknown test, not a hung or crashed run
            doc = load_json(read_regular(path, "marker").decode("utf-8"), str(path))
            nodeid = str(doc["nodeid"])
        except (OSError, ValueError, KeyError, TypeError):
            nodeid = "?"
        found.append((nodeid, worker))
        path.unlink(missing_ok=True)
    return found


def _some(nodeids: Sequence[str]) -> str:
    shown = ", ".join(nodeids[:_SHOWN])
    return shown + (f" and {len(nodeids) - _SHOWN} more" if len(nodeids) > _SHOWN else "")
