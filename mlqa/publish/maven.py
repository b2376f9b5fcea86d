"""Write an approved model release into a Maven repository: a folder, or over HTTP.

Layout (maven.apache.org repository layout): ``group/as/dirs/artifact/version/`` holds
``artifact-version.jar`` (the model files as resources plus ``mlqa.properties``), a minimal POM
and the ``-mlqa-evidence.zip`` classifier, each with ``.md5`` and ``.sha1`` (what Maven and
Gradle check; ``.sha256``/``.sha512`` on request). The GA-level ``maven-metadata.xml`` is written
last and atomically: a reader that sees a version there finds every file of it already on disk.

Only an APPROVE of the gate, judged here with the waivers the person passes, is published; the
evidence zip carries ``verdict.json`` binding that verdict to the SHA-256 of the results bundle
so a consumer can check what was approved (:mod:`mlqa.publish.maven_verify`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlqa._atomic import write_atomic
from mlqa._files import read_regular
from mlqa.errors import InputError

# Always written: the checksums Maven's resolver and Gradle read. The others only on request
# ("neither Gradle nor Maven Central read the sha256 and sha512 ones").
DEFAULT_CHECKSUMS = ("md5", "sha1")
OPTIONAL_CHECKSUMS = ("sha256", "sha512")
METADATA = "maven-metadata.xml"
EVIDENCE_CLASSIFIER = "mlqa-evidence"
PROPERTIES = "mlqa.properties"
VERDICT = "verdict.json"
# Where the run's baseline record goes in the evidence zip (its store layout under it).
BASELINE_PREFIX = "baseline/"
# The files of a results folder that go into the evidence zip (the ones the gate read).
EVIDENCE_FILES = ("results.jsonl", "session.json", "provenance.json")
SNAPSHOT = "-SNAPSHOT"
# Maven's own rules for coordinates: no path separators, no ``..``, nothing a shell or a URL
# would mangle.
_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
# A fixed entry date keeps the jar and zip byte-identical for identical content.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Gav:
    group: str
    artifact: str
    version: str | None = None

    @property
    def folder(self) -> Path:
        """``group/as/dirs/artifact`` relative to the repository root."""
        return Path(*self.group.split("."), self.artifact)

    @property
    def snapshot(self) -> bool:
        return bool(self.version and self.version.endswith(SNAPSHOT))

    def __str__(self) -> str:
        return ":".join(p for p in (self.group, self.artifact, self.version) if p)


def parse_gav(text: str, *, version_required: bool = True) -> Gav:
    """``group:artifact:version`` (or ``group:artifact[:version]``); InputError naming it."""
    parts = text.split(":")
    if len(parts) not in ((3,) if version_required else (2, 3)):
        want = "group:artifact:version" if version_required else "group:artifact[:version]"
        raise InputError(f"--gav {text!r} is not {want}")
    for name, part in zip(("group", "artifact", "version"), parts, strict=False):
        if not _ID.match(part) or ".." in part or (name == "group" and part.endswith(".")):
            raise InputError(f"--gav {text!r}: {name} {part!r} is not a valid Maven "
                             f"coordinate (letters, digits, '_', '-', '.')")
    return Gav(*parts)


def checksum(data: bytes, algorithm: str) -> str:
    return hashlib.new(algorithm, data).hexdigest()


def parse_checksums(text: str | None) -> tuple[str, ...]:
    """``--checksums sha256,sha512``: the extra algorithms (md5 and sha1 are always written)."""
    extra = [a.strip().lower() for a in (text or "").split(",") if a.strip()]
    for a in extra:
        if a not in DEFAULT_CHECKSUMS + OPTIONAL_CHECKSUMS:
            raise InputError(f"--checksums: {a!r} is not one of "
                             f"{', '.join(DEFAULT_CHECKSUMS + OPTIONAL_CHECKSUMS)}")
    return DEFAULT_CHECKSUMS + tuple(a for a in OPTIONAL_CHECKSUMS if a in extra)


@dataclass(frozen=True)
class Published:
    gav: Gav
    decision: str
    files: tuple[Path | str, ...]  # every file (or URL) written, checksums and metadata too
    bundle_sha256: str


class AlreadyPublished(InputError):
    """A release version is already in the repository: releases are never overwritten."""


def publish(bundle: str | os.PathLike[str], *, gav: str | Gav,
            models: Sequence[str | os.PathLike[str]], repo: str | os.PathLike[str] | Any,
            waivers: str | os.PathLike[str] | None = None,
            checksums: Sequence[str] = DEFAULT_CHECKSUMS,
            now: dt.datetime | None = None, **gate_options: Any) -> Published:
    """Ask the gate about ``bundle``; on APPROVE write the release into ``repo``: a folder,
    or the http(s) URL of a hosted repository (:mod:`mlqa.publish.maven_http`, credentials
    from the environment).

    ``gate_options`` are :func:`mlqa.gate.gate`'s (``policy``, ``inconclusive``,
    ``accept_partial``, ``as_of``): publishing judges exactly as ``mlqa gate`` does.

    Anything but APPROVE writes nothing and returns the decision (``files`` empty). A release
    version that already exists raises :class:`AlreadyPublished` naming its folder.
    """
    from mlqa.gate import APPROVE, gate

    coords = gav if isinstance(gav, Gav) else parse_gav(gav)
    if coords.version is None:
        raise InputError(f"--gav {coords}: a version is needed to publish")
    if not models:
        raise InputError("--model: at least one model file is needed")
    folder = Path(bundle) if Path(bundle).is_dir() else Path(bundle).parent
    target = _target(repo)  # a bad folder or URL is refused before the gate runs
    model_files = {}
    for m in models:
        name = Path(m).name
        if name in model_files or name == PROPERTIES or name.startswith("META-INF"):
            raise InputError(f"--model {m}: the name {name!r} is already taken in the jar")
        model_files[name] = read_regular(m, "model file")
    evidence = {name: read_regular(folder / name, "results bundle file")
                for name in EVIDENCE_FILES}
    evidence.update(_baseline_record(folder))
    waiver_bytes = None if waivers is None else read_regular(waivers, "waivers file")
    verdict = gate(folder, waivers=waivers, **gate_options)
    # What is zipped must be what was judged: a bundle rewritten while the gate read it is
    # refused rather than published under a verdict on other bytes.
    for name, data in evidence.items():
        if not name.startswith(BASELINE_PREFIX) and \
                read_regular(folder / name, "results bundle file") != data:
            raise InputError(f"{folder / name} changed while the gate judged it; nothing was "
                             f"published")
    bundle_sha = hashlib.sha256(evidence["results.jsonl"]).hexdigest()
    if verdict.decision != APPROVE:
        return Published(coords, verdict.decision, (), bundle_sha)
    if waiver_bytes is not None:
        evidence["waivers.yaml"] = waiver_bytes
    model_sums = {n: hashlib.sha256(b).hexdigest() for n, b in model_files.items()}
    doc = {"gav": str(coords), "decision": verdict.decision, "headline": verdict.headline(),
           "baseline_record": _record_id(evidence),
           "bundle_sha256": bundle_sha, "judged_as_of": verdict.judged_as_of,
           "models": model_sums,
           "files": {n: hashlib.sha256(b).hexdigest() for n, b in evidence.items()}}
    evidence[VERDICT] = (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()
    props = [f"gav={coords}", f"verdict={verdict.decision.upper()}",
             f"bundle.sha256={bundle_sha}", f"model={','.join(model_files)}"]
    props += [f"model.{n}.sha256={digest}" for n, digest in model_sums.items()]
    jar = {"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\nCreated-By: mlqa\r\n\r\n",
           **model_files, PROPERTIES: ("\n".join(props) + "\n").encode()}
    artifacts = {".jar": _zip(jar), ".pom": _pom(coords).encode(),
                 f"-{EVIDENCE_CLASSIFIER}.zip": _zip(evidence)}
    when = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    if isinstance(target, Path):
        written: list[Path | str] = [*_write_release(target, coords, artifacts, checksums,
                                                     when)]
    else:
        from mlqa.publish.maven_http import put_release

        written = [*put_release(target, coords, artifacts, checksums, when)]
    return Published(coords, verdict.decision, tuple(written), bundle_sha)


def _baseline_record(folder: Path) -> dict[str, bytes]:
    """The baseline record the run saved (``--mlqa-save-baseline``; the bundle's
    ``baseline.json`` names it), as evidence entries under ``baseline/``: the record's store
    layout (``records/<id>/record.json`` and its side files), read and verified here. A later
    run names this release as its baseline (``--mlqa-baseline=maven:...``) and compares with
    exactly these predictions and latency runs. Nothing where the run saved no record."""
    from mlqa.baseline.records import load_record, record_key
    from mlqa.baseline.reference import BUNDLE_REFERENCE, read_reference

    reference = read_reference(folder)
    if reference is None:
        return {}
    location, record_id = reference
    record = load_record(location, record_id)
    files = {f"{BASELINE_PREFIX}{record_key(record.id)}": record.store.get(record_key(record.id)),
             BUNDLE_REFERENCE: read_regular(folder / BUNDLE_REFERENCE, "baseline reference")}
    for rel in record.doc.get("files", {}):
        files[f"{BASELINE_PREFIX}records/{record.id}/{rel}"] = record.file(rel)
    return files


def _record_id(evidence: dict[str, bytes]) -> str | None:
    prefix = f"{BASELINE_PREFIX}records/"
    ids = {n[len(prefix):].split("/", 1)[0] for n in evidence if n.startswith(prefix)}
    return ids.pop() if ids else None


def _target(repo: Any) -> Any:
    """The folder (a Path) or the HTTP repository (``MavenHttpRepo``) ``--repo`` names."""
    from mlqa.publish.maven_http import MavenHttpRepo, is_url

    if isinstance(repo, MavenHttpRepo):
        return repo
    if is_url(repo):
        return MavenHttpRepo(repo)
    root = Path(repo)
    if not root.is_dir():
        raise InputError(f"--repo {repo}: not a folder (create it first) or an http(s):// URL")
    return root


def _write_release(root: Path, gav: Gav, artifacts: dict[str, bytes],
                   checksums: Sequence[str], when: dt.datetime) -> list[Path]:
    """Write the version's files, then the GA metadata, under a lock on the artifact's
    folder: two publishers of different versions would otherwise each rewrite the metadata
    from the same old list, and one version would vanish from it. A failure part-way removes
    what this call wrote, so a retry is not refused as an existing release."""
    assert gav.version is not None
    ga_dir = root / gav.folder
    ga_dir.mkdir(parents=True, exist_ok=True)
    version_dir = ga_dir / gav.version
    written: list[Path] = []
    with _locked(ga_dir / ".mlqa-publish.lock"):
        base = _claim(version_dir, gav, when)
        try:
            for suffix, data in artifacts.items():
                written += _write_with_checksums(version_dir / f"{base}{suffix}", data, checksums)
            if gav.snapshot:
                written += _write_with_checksums(version_dir / METADATA,
                                                 snapshot_metadata(gav, base, when), checksums)
            ga_meta = ga_metadata(read_metadata(ga_dir / METADATA), gav,
                                  when.strftime("%Y%m%d%H%M%S"))
            written += _write_with_checksums(ga_dir / METADATA, ga_meta, checksums)
        except BaseException:
            for path in written:  # a snapshot's metadata replaced an earlier build's: kept
                if path.parent == version_dir and not path.name.startswith(METADATA):
                    path.unlink(missing_ok=True)
            if not gav.snapshot:
                shutil.rmtree(version_dir, ignore_errors=True)
            raise
    return written


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock (flock) held while the block runs; where the platform has
    no flock, no lock (the release claim by ``mkdir`` still holds)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _claim(version_dir: Path, gav: Gav, when: dt.datetime) -> str:
    """The base file name (``artifact-version`` or the timestamped snapshot name) after making
    sure a release is not there yet. ``mkdir`` without ``exist_ok`` is the claim: two
    publishers of the same release cannot both pass it."""
    assert gav.version is not None
    if not gav.snapshot:
        try:
            version_dir.mkdir()
        except FileExistsError:
            raise AlreadyPublished(f"{gav} is already published ({version_dir} exists): a "
                                   f"release version is never overwritten; publish a new "
                                   f"version") from None
        return f"{gav.artifact}-{gav.version}"
    version_dir.mkdir(exist_ok=True)
    meta = version_dir / METADATA
    return snapshot_base(gav, snapshot_build(read_metadata(meta), str(meta)) + 1, when)


def _write_with_checksums(path: Path, data: bytes, algorithms: Sequence[str]) -> list[Path]:
    """The file's checksums first, then the file: a reader that finds a new file finds the
    checksums it is checked against. (For the GA metadata, a reader between the two renames
    sees the old metadata with the new checksums, and retries as on any checksum miss.)"""
    written = [write_atomic(path.with_name(f"{path.name}.{a}"), checksum(data, a))
               for a in algorithms]
    written.append(write_atomic(path, data))
    return written


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


def _pom(gav: Gav) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
            '  <modelVersion>4.0.0</modelVersion>\n'
            f'  <groupId>{gav.group}</groupId>\n'
            f'  <artifactId>{gav.artifact}</artifactId>\n'
            f'  <version>{gav.version}</version>\n'
            '  <packaging>jar</packaging>\n'
            '  <description>Model released through the mlqa gate (evidence: classifier '
            f'{EVIDENCE_CLASSIFIER}, zip)</description>\n'
            '</project>\n')


def read_metadata(path: Path) -> ET.Element | None:
    """A ``maven-metadata.xml`` or None where there is none; InputError if unreadable."""
    if not path.exists():
        return None
    return parse_metadata(read_regular(path, "Maven metadata"), str(path))


def parse_metadata(data: bytes | None, where: str) -> ET.Element | None:
    """``maven-metadata.xml`` bytes (None: there is none) parsed; InputError naming ``where``
    if they are not XML."""
    if data is None:
        return None
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise InputError(f"{where}: not valid XML ({exc})") from None


def snapshot_build(meta: ET.Element | None, where: str) -> int:
    """The last build number a SNAPSHOT's version-level metadata names (0: none yet)."""
    number = None if meta is None else meta.findtext("versioning/snapshot/buildNumber")
    try:
        return int(number or 0)
    except ValueError:
        raise InputError(f"{where}: buildNumber {number!r} is not a number") from None


def snapshot_base(gav: Gav, build: int, when: dt.datetime) -> str:
    """Maven's timestamped file name stem of a SNAPSHOT build: ``churn-2.0-20261206.041500-3``."""
    assert gav.version is not None
    stamp = when.strftime("%Y%m%d.%H%M%S")
    return f"{gav.artifact}-{gav.version.removesuffix(SNAPSHOT)}-{stamp}-{build}"


def snapshot_metadata(gav: Gav, base: str, when: dt.datetime) -> bytes:
    assert gav.version is not None
    value = base.removeprefix(f"{gav.artifact}-")
    timestamp, build = value.rsplit("-", 2)[-2:]
    updated = when.strftime("%Y%m%d%H%M%S")
    entries = "".join(
        f"      <snapshotVersion>\n{cls}        <extension>{ext}</extension>\n"
        f"        <value>{value}</value>\n        <updated>{updated}</updated>\n"
        f"      </snapshotVersion>\n"
        for ext, cls in (("jar", ""), ("pom", ""),
                         ("zip", f"        <classifier>{EVIDENCE_CLASSIFIER}</classifier>\n")))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<metadata modelVersion="1.1.0">\n'
            f'  <groupId>{gav.group}</groupId>\n  <artifactId>{gav.artifact}</artifactId>\n'
            f'  <version>{gav.version}</version>\n  <versioning>\n    <snapshot>\n'
            f'      <timestamp>{timestamp}</timestamp>\n      <buildNumber>{build}</buildNumber>\n'
            f'    </snapshot>\n    <lastUpdated>{updated}</lastUpdated>\n'
            f'    <snapshotVersions>\n{entries}    </snapshotVersions>\n  </versioning>\n'
            '</metadata>\n').encode()


def ga_metadata(old: ET.Element | None, gav: Gav, stamp: str) -> bytes:
    """The GA-level metadata ``old`` (None: the first version) with ``gav.version`` added:
    ``latest`` is the version just published, ``release`` the last non-SNAPSHOT one (as
    ``mvn deploy`` writes them)."""
    listed = [] if old is None else old.iterfind("versioning/versions/version")
    versions = [v.text or "" for v in listed]
    release = None if old is None else old.findtext("versioning/release")
    if gav.version not in versions:
        versions.append(gav.version or "")
    if not gav.snapshot:
        release = gav.version
    lines = "".join(f"      <version>{v}</version>\n" for v in versions)
    release_line = f"    <release>{release}</release>\n" if release else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<metadata>\n'
            f'  <groupId>{gav.group}</groupId>\n  <artifactId>{gav.artifact}</artifactId>\n'
            f'  <versioning>\n    <latest>{gav.version}</latest>\n{release_line}'
            f'    <versions>\n{lines}    </versions>\n'
            f'    <lastUpdated>{stamp}</lastUpdated>\n  </versioning>\n</metadata>\n').encode()
