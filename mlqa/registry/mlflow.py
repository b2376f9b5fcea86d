"""The MLflow model registry: a registered version as the baseline, the gate's verdict written back.

- Baseline: ``--mlqa-baseline=mlflow:models:/churn@champion`` (or ``models:/churn/3``) reads the
  version, its run, and the baseline record mlqa logged on that run (``mlqa/verdict.json`` and
  the record's store layout under ``mlqa/baseline/``), so paired tests compare with the
  champion's own predictions without rescoring. A version mlqa did not gate is an error naming
  what to log, never a comparison with something that was not approved.
- ``mlqa gate BUNDLE --registry models:/churn/3``: on APPROVE only, the run's evidence (results
  bundle, session record, provenance, waivers used, its baseline record and ``verdict.json``
  binding them by SHA-256) is logged as artifacts of the version's run, then the tags
  ``mlqa.verdict``, ``mlqa.bundle_sha256``, ``mlqa.build_url`` are set on the version, then
  the alias ``challenger`` (last: an alias means the evidence is already there).
- ``mlqa baseline promote --registry models:/churn@challenger``: moves ``champion`` to that
  version, with ``mlqa.promoted_by``, ``mlqa.promote_reason`` and ``mlqa.promoted_at`` tags.

The tracking URI is ``--tracking-uri`` or ``$MLFLOW_TRACKING_URI`` (never MLflow's silent
default ``sqlite:///mlflow.db``); a ``sqlite:`` database that does not exist is refused rather
than created empty. MLflow's client retries a dead server for about four minutes by default;
every call mlqa makes runs with ``MLFLOW_HTTP_REQUEST_TIMEOUT`` = ``$MLQA_MLFLOW_TIMEOUT``
(default 10 s), 2 retries and a 1 s backoff factor, so one call gives up within
:func:`deadline` seconds (3 x timeout + 3 s) and says so as an error naming the URI.
MLflow is imported only here and only when a registry is used (extra ``mlflow``); its
telemetry is switched off before the import.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mlqa.baseline.errors import BaselineError, CorruptRecord, RecordNotFound, StoreError
from mlqa.baseline.records import BaselineRecord
from mlqa.baseline.stores import redacted
from mlqa.errors import InputError

PREFIX = "mlflow:"
URI_ENV = "MLFLOW_TRACKING_URI"
TIMEOUT_ENV = "MLQA_MLFLOW_TIMEOUT"
DEFAULT_TIMEOUT = 10  # seconds per attempt; MLflow's setting takes whole seconds
RETRIES = 2
BACKOFF_FACTOR = 1  # urllib3 sleeps 0 s, then 2 s between the 3 attempts
ARTIFACT_DIR = "mlqa"  # on the version's run: verdict.json, evidence/, baseline/
VERDICT = "verdict.json"
CHALLENGER, CHAMPION = "challenger", "champion"
TAG_VERDICT, TAG_BUNDLE, TAG_BUILD = "mlqa.verdict", "mlqa.bundle_sha256", "mlqa.build_url"
TAG_BY, TAG_REASON, TAG_AT = "mlqa.promoted_by", "mlqa.promote_reason", "mlqa.promoted_at"
_NAME = re.compile(r"^[^/@]+$")


def is_mlflow_spec(location: Any) -> bool:
    return isinstance(location, str) and location.startswith(PREFIX)


@dataclasses.dataclass(frozen=True)
class ModelRef:
    """``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``."""

    name: str
    version: str | None = None
    alias: str | None = None

    def __str__(self) -> str:
        return f"models:/{self.name}@{self.alias}" if self.alias else \
            f"models:/{self.name}/{self.version}"


def parse_model_uri(text: str) -> ModelRef:
    """A registered model version as MLflow names it (``mlflow:`` in front is allowed)."""
    spec = text[len(PREFIX):] if text.startswith(PREFIX) else text
    hint = "write models:/NAME@ALIAS or models:/NAME/VERSION (e.g. models:/churn@champion)"
    if not spec.startswith("models:/"):
        raise InputError(f"{text!r} is not an MLflow model URI: {hint}")
    rest = spec[len("models:/"):]
    if "@" in rest:
        name, alias = rest.split("@", 1)
        if not _NAME.match(name) or not re.fullmatch(r"[A-Za-z0-9_\-]+", alias):
            raise InputError(f"{text!r}: {hint}")
        return ModelRef(name, alias=alias)
    name, _, version = rest.rpartition("/")
    if not name or not _NAME.match(name) or not version.isdigit():
        raise InputError(f"{text!r}: {hint}")
    return ModelRef(name, version=version)


def tracking_uri(given: str | None, env: Mapping[str, str] | None = None) -> str:
    """The tracking URI to use: ``given`` or ``$MLFLOW_TRACKING_URI``; refused when neither is
    set or when a ``sqlite:`` database file does not exist (MLflow would create it empty)."""
    env = os.environ if env is None else env
    uri = given or env.get(URI_ENV)
    if not uri:
        raise InputError(f"no MLflow tracking URI: give --tracking-uri or set {URI_ENV} "
                         f"(http(s)://host:port of a tracking server, or sqlite:///path.db)")
    if uri.startswith("sqlite:"):
        path = uri[len("sqlite:///"):] if uri.startswith("sqlite:///") else None
        if not path or path == ":memory:" or not Path(path).is_file():
            raise InputError(f"MLflow tracking URI {uri}: no such database file (write "
                             f"sqlite:///absolute/path.db of an existing tracking store)")
    elif not re.match(r"^(https?://|databricks(-uc)?($|:))", uri):
        raise InputError(f"MLflow tracking URI {redacted(uri)} is not http(s)://, sqlite:/// "
                         f"or databricks")
    elif "@" in uri.split("//", 1)[-1].split("/", 1)[0]:
        raise InputError(f"MLflow tracking URI {redacted(uri)}: credentials in the URL would "
                         f"be shown in build logs; set MLFLOW_TRACKING_USERNAME/"
                         f"MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN)")
    return uri


def timeout_setting(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    raw = env.get(TIMEOUT_ENV)
    if raw is None or raw == "":
        return DEFAULT_TIMEOUT
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= 600:
        raise InputError(f"{TIMEOUT_ENV}={raw!r}: whole seconds from 1 to 600 expected")
    return value


def deadline(timeout: int | None = None) -> float:
    """Seconds within which one registry call against a dead or silent server gives up."""
    t = timeout_setting() if timeout is None else timeout
    return (RETRIES + 1) * t + 2 * BACKOFF_FACTOR + 1


@contextlib.contextmanager
def _client(uri: str, what: str) -> Iterator[Any]:
    """An ``MlflowClient`` on ``uri`` whose calls keep to :func:`deadline`; any failure of
    MLflow, the network or the database leaves as a StoreError naming ``what`` and the URI."""
    timeout = timeout_setting()
    settings = {"MLFLOW_HTTP_REQUEST_TIMEOUT": str(timeout),
                "MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(RETRIES),
                "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": str(BACKOFF_FACTOR),
                "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0"}
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # DO_NOT_TRACK=1 is not enough
    saved = {k: os.environ.get(k) for k in settings}
    os.environ.update(settings)
    try:
        client_module = _import("mlflow.tracking")
        exceptions = _import("mlflow.exceptions")
        try:
            yield client_module.MlflowClient(tracking_uri=uri, registry_uri=uri)
        except BaselineError:
            raise
        except exceptions.MlflowException as exc:
            code = getattr(exc, "error_code", "")
            kind = RecordNotFound if code == "RESOURCE_DOES_NOT_EXIST" else StoreError
            unanswered = "API request to" in str(exc) and "failed with exception" in str(exc)
            raise kind(f"{what} in MLflow at {redacted(uri)}: "
                       f"{_unanswered(timeout) if unanswered else ''}{_short(exc)}") from None
        except (OSError, ValueError) as exc:  # requests' errors are OSErrors
            raise StoreError(f"{what} in MLflow at {redacted(uri)}: {_unanswered(timeout)}"
                             f"{type(exc).__name__}: {_short(exc)}") from None
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _import(module: str) -> Any:
    from mlqa._optional import require

    return require(module, "mlflow", "the MLflow registry")


def _unanswered(timeout: int) -> str:
    return (f"server down, unreachable or not answering (gave up after {RETRIES + 1} attempts "
            f"of {timeout} s each, within {deadline(timeout):.0f} s; {TIMEOUT_ENV} sets the "
            f"timeout): ")


def _short(exc: BaseException) -> str:
    """The library's message on one line, without any user:password@ a URL in it carried."""
    text = re.sub(r"//[^/@\s]*@", "//", " ".join(str(exc).split()))
    return text if len(text) <= 400 else text[:400] + " ..."


def _version(client: Any, ref: ModelRef) -> Any:
    if ref.alias:
        return client.get_model_version_by_alias(ref.name, ref.alias)
    return client.get_model_version(ref.name, ref.version)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- the baseline -----------------------------------------------------------------------------


class MlflowBaseline:
    """``mlflow:models:/NAME@ALIAS`` (or ``/VERSION``) in the tracking store ``uri`` (None:
    ``$MLFLOW_TRACKING_URI``). Parsing only: nothing is imported or read until :meth:`load`."""

    def __init__(self, spec: str, uri: str | None = None, *,
                 env: Mapping[str, str] | None = None):
        try:
            self.ref = parse_model_uri(spec)
        except InputError as exc:
            raise BaselineError(f"baseline {spec!r}: {exc}") from None
        self.spec = f"{PREFIX}{self.ref}"
        self._uri = uri
        self._env = env

    def __repr__(self) -> str:
        return f"MlflowBaseline({self.spec!r})"

    def load(self) -> BaselineRecord:
        """The baseline record mlqa logged on the version's run, verified against the verdict
        that bound it and the version's tags."""
        try:
            uri = tracking_uri(self._uri, self._env)
            with _client(uri, f"baseline {self.spec}") as client:
                version = _version(client, self.ref)
                files = self._artifacts(client, version)
        except BaselineError:
            raise
        except InputError as exc:  # no URI, a bad one, MLflow not installed
            raise StoreError(f"baseline {self.spec}: {exc}") from None
        return self._record(version, files, uri)

    def _artifacts(self, client: Any, version: Any) -> dict[str, bytes]:
        where = f"{self.ref} (version {version.version}"
        howto = (f"gate it with `mlqa gate BUNDLE --registry models:/{self.ref.name}/"
                 f"{version.version}` after a run saved with --mlqa-save-baseline: that logs "
                 f"{ARTIFACT_DIR}/{VERDICT} and the run's predictions under "
                 f"{ARTIFACT_DIR}/baseline/ on the version's run")
        if not version.run_id:
            raise RecordNotFound(f"baseline {self.spec}: {where}) was registered without a run, "
                                 f"so it holds no predictions mlqa logged: register it from a "
                                 f"run, then {howto}")
        if version.tags.get(TAG_VERDICT) != "APPROVE":
            raise RecordNotFound(f"baseline {self.spec}: {where}, run {version.run_id}) was "
                                 f"not approved by mlqa (no tag {TAG_VERDICT}=APPROVE) and "
                                 f"holds no predictions mlqa logged: {howto}")
        if not client.list_artifacts(version.run_id, ARTIFACT_DIR):
            raise RecordNotFound(f"baseline {self.spec}: {where}, run {version.run_id}) has "
                                 f"no {ARTIFACT_DIR}/ artifacts (the predictions to compare "
                                 f"with): {howto}")
        with tempfile.TemporaryDirectory(prefix="mlqa-mlflow-") as tmp:
            local = Path(client.download_artifacts(version.run_id, ARTIFACT_DIR, tmp))
            return {p.relative_to(local).as_posix(): p.read_bytes()
                    for p in sorted(local.rglob("*")) if p.is_file()}

    def _record(self, version: Any, files: dict[str, bytes], uri: str) -> BaselineRecord:
        from mlqa.baseline.maven import EvidenceStore
        from mlqa.baseline.records import load_record

        where = f"baseline {self.spec} (version {version.version}, run {version.run_id})"
        if VERDICT not in files:
            raise RecordNotFound(f"{where}: no {ARTIFACT_DIR}/{VERDICT} on the run: gate the "
                                 f"version with `mlqa gate BUNDLE --registry ...`")
        try:
            verdict = json.loads(files[VERDICT])
            bound = dict(verdict["files"])
        except (ValueError, KeyError, TypeError):
            raise CorruptRecord(f"{where}: {ARTIFACT_DIR}/{VERDICT} is not mlqa's verdict") \
                from None
        problems = []
        if str(verdict.get("decision")).lower() != "approve":
            problems.append(f"the verdict is {verdict.get('decision')!r}, not approve")
        if verdict.get("model") != {"name": self.ref.name, "version": str(version.version)}:
            problems.append(f"the verdict is for {verdict.get('model')}, not this version")
        if verdict.get("bundle_sha256") != version.tags.get(TAG_BUNDLE):
            problems.append(f"its bundle sha256 differs from the version's {TAG_BUNDLE} tag")
        for name, digest in sorted(bound.items()):
            if name not in files:
                problems.append(f"{name} is missing")
            elif _sha(files[name]) != digest:
                problems.append(f"{name} differs from the verdict's SHA-256")
        if problems:
            raise CorruptRecord(f"{where} is not an approved release to compare with: "
                                f"{'; '.join(problems)}")
        record_id = verdict.get("baseline_record")
        if not isinstance(record_id, str):
            raise RecordNotFound(f"{where}: its evidence holds no baseline record (the gated "
                                 f"run was not saved with --mlqa-save-baseline): log the "
                                 f"predictions by gating a run that saved them")
        # only what the verdict binds: a file an earlier gate of this run left is not read
        store = EvidenceStore({n[len("baseline/"):]: files[n] for n in bound
                               if n.startswith("baseline/")},
                              f"{self.spec} artifacts in {redacted(uri)}")
        record = load_record(store, record_id)
        tags = version.tags
        record.identity = dataclasses.replace(
            record.identity, alias=f"mlflow {self.ref.alias or 'version'}",
            model=self.ref.name, model_version=str(version.version),
            promoted_by=tags.get(TAG_BY) or "mlqa gate", promoted_at=tags.get(TAG_AT),
            reason=tags.get(TAG_REASON) or f"{self.ref} (gate APPROVE of bundle sha256 "
                                           f"{str(verdict.get('bundle_sha256'))[:12]})")
        return record


# -- the gate's write-back --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Written:
    """What ``mlqa gate --registry`` did: nothing (``run_id`` None) unless the gate approved."""

    decision: str
    version: str | None = None
    run_id: str | None = None
    bundle_sha256: str | None = None

    def line(self, ref: ModelRef) -> str:
        if self.run_id is None:
            return (f"registry: nothing written to {ref}: the gate says "
                    f"{self.decision.upper()}")
        return (f"registry: {ref.name} version {self.version}: tags {TAG_VERDICT}=APPROVE, "
                f"{TAG_BUNDLE}={self.bundle_sha256}; evidence logged on run {self.run_id} "
                f"under {ARTIFACT_DIR}/; alias {CHALLENGER} set")


def gate_into_registry(bundle: str | os.PathLike[str], model: str, *,
                       uri: str | None = None, waivers: str | os.PathLike[str] | None = None,
                       build_url: str | None = None, **gate_options: Any) -> tuple[Any, Written]:
    """Judge ``bundle`` as :func:`mlqa.gate.gate` does; on APPROVE log its evidence on the run
    of the model version ``model`` names, tag the version and set the alias ``challenger``.
    Anything but APPROVE writes nothing. Returns ``(verdict, written)``."""
    from mlqa._files import read_regular
    from mlqa.gate import APPROVE, gate
    from mlqa.publish.maven import EVIDENCE_FILES, _baseline_record

    ref = parse_model_uri(model)
    where = tracking_uri(uri)  # a bad URI is refused before the gate runs
    folder = Path(bundle) if Path(bundle).is_dir() else Path(bundle).parent
    evidence = {f"evidence/{n}": read_regular(folder / n, "results bundle file")
                for n in EVIDENCE_FILES}
    evidence.update({f"{k}" if k.startswith("baseline/") else f"evidence/{k}": v
                     for k, v in _baseline_record(folder).items()})
    verdict = gate(folder, waivers=waivers, **gate_options)
    for n in EVIDENCE_FILES:  # what is logged must be what was judged
        if read_regular(folder / n, "results bundle file") != evidence[f"evidence/{n}"]:
            raise InputError(f"{folder / n} changed while the gate judged it; nothing was "
                             f"written to the registry")
    bundle_sha = _sha(evidence["evidence/results.jsonl"])
    if verdict.decision != APPROVE:
        return verdict, Written(verdict.decision, bundle_sha256=bundle_sha)
    if waivers is not None:
        evidence["evidence/waivers.yaml"] = read_regular(waivers, "waivers file")
    build = build_url or _build_url(folder)
    with _client(where, f"mlqa gate --registry {ref}") as client:
        version = _version(client, ref)
        if not version.run_id:
            raise InputError(f"{ref} (version {version.version}) was registered without a "
                             f"run: mlqa logs the evidence on the version's run; register it "
                             f"from one (mlflow.register_model('runs:/<run id>/model', ...))")
        record_id = next((p.split("/")[2] for p in evidence
                          if p.startswith("baseline/records/")), None)
        doc = {"decision": verdict.decision, "headline": verdict.headline(),
               "model": {"name": ref.name, "version": str(version.version)},
               "baseline_record": record_id, "bundle_sha256": bundle_sha,
               "build_url": build, "judged_as_of": verdict.judged_as_of,
               "files": {n: _sha(b) for n, b in sorted(evidence.items())}}
        evidence[VERDICT] = (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()
        with tempfile.TemporaryDirectory(prefix="mlqa-mlflow-") as tmp:
            for name, data in evidence.items():
                path = Path(tmp, name)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            client.log_artifacts(version.run_id, tmp, ARTIFACT_DIR)
        for key, value in ((TAG_VERDICT, "APPROVE"), (TAG_BUNDLE, bundle_sha),
                           (TAG_BUILD, build or "")):
            client.set_model_version_tag(ref.name, str(version.version), key, value)
        client.set_registered_model_alias(ref.name, CHALLENGER, str(version.version))
    return verdict, Written(verdict.decision, str(version.version), version.run_id, bundle_sha)


def _build_url(folder: Path) -> str | None:
    """The Jenkins build that produced the bundle (its provenance), else this one's."""
    from mlqa import provenance

    said = (provenance.read(folder).get("jenkins") or {}).get("BUILD_URL")
    return str(said) if said else os.environ.get("BUILD_URL") or None


# -- promotion ------------------------------------------------------------------------------


def promote(model: str, *, uri: str | None = None, alias: str = CHAMPION,
            by: str | None = None, reason: str | None = None,
            bundle_sha256: str | None = None) -> str:
    """Point ``alias`` (``champion``) at the version ``model`` names, which the gate must have
    approved through the registry (tag ``mlqa.verdict=APPROVE``; when ``bundle_sha256`` is
    given, for exactly that bundle). Returns the version."""
    ref = parse_model_uri(model)
    where = tracking_uri(uri)
    with _client(where, f"mlqa baseline promote --registry {ref}") as client:
        version = _version(client, ref)
        tags = version.tags
        if tags.get(TAG_VERDICT) != "APPROVE":
            raise InputError(f"{ref} (version {version.version}) has no {TAG_VERDICT}=APPROVE "
                             f"tag: run `mlqa gate BUNDLE --registry models:/{ref.name}/"
                             f"{version.version}` first; nothing was promoted")
        if bundle_sha256 is not None and tags.get(TAG_BUNDLE) != bundle_sha256:
            raise InputError(f"{ref} (version {version.version}) was approved for bundle "
                             f"sha256 {str(tags.get(TAG_BUNDLE))[:12]}, not the bundle given "
                             f"({bundle_sha256[:12]}); nothing was promoted")
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        for key, value in ((TAG_BY, by or "unnamed"), (TAG_REASON, reason or ""),
                           (TAG_AT, now)):
            client.set_model_version_tag(ref.name, str(version.version), key, value)
        client.set_registered_model_alias(ref.name, alias, str(version.version))
    return str(version.version)
