"""Maven coordinates as a baseline: ``--mlqa-baseline=maven:com.acme.models:churn:RELEASE``.

The version is ``RELEASE`` or ``LATEST`` (what the GA-level ``maven-metadata.xml`` says), an
exact version, or a Maven range (``[1.0,2.0)``, ``(,2.0]``, ``[1.4]``: the highest release the
metadata lists inside it; SNAPSHOTs are never a baseline). The repository is a folder or an
http(s) URL (``--mlqa-maven-repo``, or ``MLQA_MAVEN_REPO``; credentials as for publishing).

The resolved version's ``-mlqa-evidence.zip`` is the baseline: its ``.sha1`` must match, its
``verdict.json`` must say APPROVE for that version and bind every file of the zip by SHA-256
(:func:`mlqa.publish.maven_verify.evidence_problems`), and the baseline record the approved run
saved, zipped under ``baseline/`` at publish time, is read from it with the record's own
checksums verified. Anything short of that is an error naming what is wrong (the check is then
ERROR), never a comparison against something that was not approved.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from mlqa.baseline.errors import BaselineError, CorruptRecord, RecordNotFound, StoreError
from mlqa.baseline.records import BaselineRecord, load_record
from mlqa.baseline.stores import Store, _check_key, redacted
from mlqa.errors import InputError

PREFIX = "maven:"
REPO_ENV = "MLQA_MAVEN_REPO"
_RANGE = re.compile(r"^([\[(])\s*([\w.\-]*)\s*(?:,\s*([\w.\-]*)\s*)?([\])])$")


def is_maven_spec(location: Any) -> bool:
    return isinstance(location, str) and location.startswith(PREFIX)


# -- versions -----------------------------------------------------------------------------------

_QUALIFIERS = {"alpha": 0, "a": 0, "beta": 1, "b": 1, "milestone": 2, "m": 2, "rc": 3, "cr": 3,
               "snapshot": 4, "": 5, "ga": 5, "final": 5, "release": 5, "sp": 6}


def version_key(version: str) -> tuple[Any, ...]:
    """An ordering key following Maven's ComparableVersion for the usual forms: numbers compare
    as numbers (``1.10`` > ``1.9``), trailing zeros do not count (``1.0`` == ``1``), and a
    qualifier ranks alpha < beta < milestone < rc < snapshot < release < sp < any other."""
    tokens = [t for t in re.split(r"[.\-]|(?<=\d)(?=[A-Za-z])|(?<=[A-Za-z])(?=\d)",
                                  version.lower()) if t != ""]
    key: list[tuple[int, Any]] = []
    for token in tokens:
        if token.isdigit():
            key.append((1, int(token)))
        else:
            rank = _QUALIFIERS.get(token)
            key.append((0, (rank, "")) if rank is not None else (0, (7, token)))
    # zeros before a qualifier or the end do not count (1.0-rc1 is 1-rc-1, 1.0 is 1), nor
    # does a release qualifier (1-ga is 1)
    trimmed: list[tuple[int, Any]] = []
    for item in [*key, None]:
        while item is not None and item[0] == 0 and trimmed and trimmed[-1] == (1, 0):
            trimmed.pop()
        while item is None and trimmed and trimmed[-1] in ((1, 0), (0, (5, ""))):
            trimmed.pop()
        if item is not None and item != (0, (5, "")):
            trimmed.append(item)
    key = trimmed
    # a release (nothing more) sorts between qualifiers below it and sp/others above it
    return tuple(key) + ((0, (5, "")),)


def in_range(version: str, spec: str) -> bool:
    """Whether ``version`` lies in the Maven range ``spec`` (one range; InputError if bad)."""
    match = _RANGE.match(spec.strip())
    if not match:
        raise InputError(f"{spec!r} is not a Maven version range such as [1.0,2.0)")
    left, low, high, right = match.groups()
    if high is None:  # [1.4]: exactly that version
        if left != "[" or right != "]" or not low:
            raise InputError(f"{spec!r}: a single version range is written [1.4]")
        return version_key(version) == version_key(low)
    key = version_key(version)
    if low and (key < version_key(low) or (left == "(" and key == version_key(low))):
        return False
    return not (high and (key > version_key(high) or (right == ")" and key == version_key(high))))


def select_version(meta: ET.Element, selector: str, where: str) -> str:
    """The version ``selector`` names among those ``meta`` lists."""
    listed = [v.text or "" for v in meta.iterfind("versioning/versions/version")]
    releases = [v for v in listed if not v.endswith("-SNAPSHOT")]
    if selector in ("RELEASE", "LATEST"):
        chosen = meta.findtext(f"versioning/{selector.lower()}")
        if not chosen or chosen not in listed:
            raise RecordNotFound(f"{where} names no {selector.lower()} version among the "
                                 f"versions it lists ({', '.join(listed) or 'none'})")
        if chosen.endswith("-SNAPSHOT"):
            raise BaselineError(f"{where}: {selector} is {chosen}, a SNAPSHOT: a baseline is an "
                                f"approved release (name a release version or a range)")
        return chosen
    if selector[:1] in "[(":
        try:
            inside = [v for v in releases if in_range(v, selector)]
        except InputError as exc:
            raise BaselineError(str(exc)) from None
        if not inside:
            raise RecordNotFound(f"{where} lists no release in {selector} (it lists: "
                                 f"{', '.join(listed) or 'none'})")
        return max(inside, key=version_key)
    if selector.endswith("-SNAPSHOT"):
        raise BaselineError(f"{selector} is a SNAPSHOT: a baseline is an approved release")
    if selector not in listed:
        raise RecordNotFound(f"{where} does not list {selector} (it lists: "
                             f"{', '.join(listed) or 'none'})")
    return selector


# -- the evidence zip as a read-only store -------------------------------------------------------


class EvidenceStore(Store):
    """The baseline record zipped in an evidence zip, as a store ``load_record`` reads."""

    def __init__(self, files: Mapping[str, bytes], location: str):
        self._files = dict(files)
        self.location = location

    def get(self, key: str) -> bytes:
        data = self._files.get(_check_key(key))
        if data is None:
            raise RecordNotFound(f"{key} not found in {self.location}")
        return data

    def exists(self, key: str) -> bool:
        return _check_key(key) in self._files

    def put(self, key: str, data: bytes) -> None:
        raise StoreError(f"{self.location} is a published release's evidence: it cannot be "
                         f"written (save this run's record with --mlqa-save-baseline to "
                         f"the local store, then publish it)")


# -- resolving --------------------------------------------------------------------------------


class MavenBaseline:
    """``maven:group:artifact:VERSION`` in the repository ``repo`` (a folder or URL; None:
    ``MLQA_MAVEN_REPO``). Nothing is read until :meth:`load`."""

    def __init__(self, spec: str, repo: str | os.PathLike[str] | None = None, *,
                 env: Mapping[str, str] | None = None):
        from mlqa.publish.maven import parse_gav

        if not is_maven_spec(spec):
            raise BaselineError(f"a Maven baseline is written maven:group:artifact:version, got "
                             f"{spec!r}")
        parts = spec[len(PREFIX):].split(":", 2)
        if len(parts) != 3 or not parts[2].strip():
            raise BaselineError(f"baseline {spec!r}: write maven:group:artifact:VERSION (VERSION: "
                             f"RELEASE, LATEST, a version or a range like [1.0,2.0))")
        try:
            self.ga = parse_gav(":".join(parts[:2]), version_required=False)
        except InputError as exc:
            raise BaselineError(f"baseline {spec!r}: {exc}") from None
        self.selector = parts[2].strip()
        self.spec = f"{PREFIX}{self.ga}:{self.selector}"
        env = os.environ if env is None else env
        location = repo if repo is not None else env.get(REPO_ENV)
        if not location:
            raise BaselineError(f"baseline {self.spec}: no Maven repository to resolve it in; "
                             f"give --mlqa-maven-repo FOLDER|URL (or set {REPO_ENV})")
        self.repo = os.fspath(location)

    def __repr__(self) -> str:
        return f"MavenBaseline({self.spec!r}, repo={redacted(self.repo)!r})"

    def load(self) -> BaselineRecord:
        """The approved baseline record of the version the spec resolves to (verified)."""
        try:
            return self._load()
        except BaselineError:
            raise
        except InputError as exc:  # the repository: unreachable, refused, a bad URL
            raise StoreError(f"baseline {self.spec}: {exc}") from None

    def _load(self) -> BaselineRecord:
        from mlqa.publish.maven import EVIDENCE_CLASSIFIER, METADATA, VERDICT, Gav, checksum
        from mlqa.publish.maven_verify import evidence_problems, open_reader

        reader = open_reader(self.repo)
        ga_dir = self.ga.folder.as_posix()
        where = f"{redacted(reader.name).rstrip('/')}/{ga_dir}/{METADATA}"
        data = reader.read(f"{ga_dir}/{METADATA}")
        if data is None:
            raise RecordNotFound(f"baseline {self.spec}: no {where}: nothing of "
                                 f"{self.ga} was published there")
        try:
            meta = ET.fromstring(data)
        except ET.ParseError as exc:
            raise CorruptRecord(f"baseline {self.spec}: {where} is not valid XML ({exc})") \
                from None
        version = select_version(meta, self.selector, where)
        gav = Gav(self.ga.group, self.ga.artifact, version)
        rel = f"{ga_dir}/{version}/{self.ga.artifact}-{version}-{EVIDENCE_CLASSIFIER}.zip"
        zipped = reader.read(rel)
        if zipped is None:
            raise RecordNotFound(f"baseline {self.spec}: {gav} has no evidence zip ({rel}): "
                                 f"nothing says it was approved")
        stated = reader.read(f"{rel}.sha1")
        words = (stated or b"").decode("ascii", "replace").split()
        if not words or words[0].lower() != checksum(zipped, "sha1"):
            raise CorruptRecord(f"baseline {self.spec}: {rel} does not match its .sha1 "
                                f"(missing, tampered or truncated)")
        problems, files = evidence_problems(rel, zipped, gav)
        if problems:
            raise BaselineError(f"baseline {self.spec}: {gav} is not an approved release to "
                                f"compare with: {'; '.join(problems)}")
        verdict = json.loads(files[VERDICT])
        record_id = verdict.get("baseline_record")
        if not isinstance(record_id, str):
            raise RecordNotFound(f"baseline {self.spec}: {gav}'s evidence holds no baseline "
                                 f"record (its run was not saved with --mlqa-save-baseline, "
                                 f"or it was published before mlqa zipped the record)")
        store = EvidenceStore({n[len("baseline/"):]: b for n, b in files.items()
                               if n.startswith("baseline/")},
                              f"{gav} evidence in {redacted(reader.name)}")
        record = load_record(store, record_id)
        bundle = str(verdict.get("bundle_sha256", ""))
        record.identity = dataclasses.replace(
            record.identity, alias=f"maven {self.selector}", promoted_by="mlqa gate",
            reason=f"{gav} (gate {str(verdict.get('decision', '')).upper()} of bundle sha256 "
                   f"{bundle[:12]}, evidence sha256 "
                   f"{hashlib.sha256(zipped).hexdigest()[:12]})")
        return record
