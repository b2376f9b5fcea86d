"""Check a Maven repository folder written by :mod:`mlqa.publish.maven`, in pure Python.

What a consumer relies on: every file has matching ``.md5``/``.sha1`` (and any ``.sha256``/
``.sha512`` present matches), the GA-level metadata lists exactly the versions on disk with
``latest``/``release`` among them and no SNAPSHOT as ``release``, a release folder holds no
timestamped (snapshot) names, and each version's evidence zip carries a ``verdict.json`` that
says APPROVE for the SHA-256 of the results bundle zipped beside it and for the jar's
``mlqa.properties``. Every problem is named; none is fixed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from pathlib import Path

from mlqa._files import read_regular
from mlqa.errors import InputError
from mlqa.publish.maven import (
    DEFAULT_CHECKSUMS,
    EVIDENCE_CLASSIFIER,
    METADATA,
    OPTIONAL_CHECKSUMS,
    PROPERTIES,
    SNAPSHOT,
    VERDICT,
    Gav,
    checksum,
    parse_gav,
)

_SUMS = DEFAULT_CHECKSUMS + OPTIONAL_CHECKSUMS
_TIMESTAMPED = re.compile(r"-\d{8}\.\d{6}-\d+")


def verify(repo: str | os.PathLike[str], *, gav: str | None = None) -> list[str]:
    """The problems found in the repository folder ``repo`` (empty: consistent).

    ``gav`` (``group:artifact[:version]``) limits the check to one artifact or one version.
    InputError where the folder, or the named artifact, is not there to check.
    """
    root = Path(repo)
    if not root.is_dir():
        raise InputError(f"{repo}: not a folder")
    wanted = None if gav is None else parse_gav(gav, version_required=False)
    if wanted is not None:
        meta = root / wanted.folder / METADATA
        if not os.path.lexists(meta):
            raise InputError(f"{wanted}: no {meta.relative_to(root)} in {repo}")
        metas = [meta]
    else:
        metas = sorted(_ga_metadata_files(root))
        if not metas:
            raise InputError(f"{repo}: no {METADATA} of any artifact (not a Maven repository "
                             f"folder, or nothing was published)")
    problems: list[str] = []
    for meta in metas:
        problems += _check_artifact(root, meta, wanted)
    return problems


def _ga_metadata_files(root: Path) -> Iterator[Path]:
    for path in root.rglob(METADATA):
        try:
            doc = ET.fromstring(read_regular(path, "Maven metadata"))
        except (ET.ParseError, InputError):
            yield path  # reported by _check_artifact
            continue
        if doc.find("version") is None:  # version-level (snapshot) metadata names a version
            yield path


def _rel(root: Path, path: Path) -> str:
    return str(path.relative_to(root))


def _checksums(root: Path, path: Path) -> list[str]:
    """Problems with ``path``'s checksum files: md5 and sha1 must exist, all present match."""
    problems = []
    data = read_regular(path, "repository file")
    for algorithm in _SUMS:
        side = path.with_name(f"{path.name}.{algorithm}")
        if not side.is_file():
            if algorithm in DEFAULT_CHECKSUMS:
                problems.append(f"{_rel(root, path)}: no .{algorithm} checksum")
            continue
        # Maven tolerates "<hex>  <file name>" in a checksum file: the first word counts.
        words = read_regular(side, "checksum file").decode("ascii", "replace").split()
        if not words or words[0].lower() != checksum(data, algorithm):
            problems.append(f"{_rel(root, side)}: does not match the file "
                            f"({algorithm} is {checksum(data, algorithm)})")
    return problems


def _check_artifact(root: Path, meta: Path, wanted: Gav | None) -> list[str]:
    ga_dir = meta.parent
    try:
        doc = ET.fromstring(read_regular(meta, "Maven metadata"))
    except ET.ParseError as exc:
        return [f"{_rel(root, meta)}: not valid XML ({exc})"]
    problems = _checksums(root, meta)
    group, artifact = doc.findtext("groupId") or "", doc.findtext("artifactId") or ""
    expected = Path(*group.split("."), artifact) if group and artifact else None
    if expected is None or root / expected != ga_dir:
        problems.append(f"{_rel(root, meta)}: names {group}:{artifact}, which does not live "
                        f"in {_rel(root, ga_dir)}")
    listed = [v.text or "" for v in doc.iterfind("versioning/versions/version")]
    for tag in ("latest", "release"):
        value = doc.findtext(f"versioning/{tag}")
        if value and value not in listed:
            problems.append(f"{_rel(root, meta)}: {tag} {value} is not in its version list")
    release = doc.findtext("versioning/release")
    if release and release.endswith(SNAPSHOT):
        problems.append(f"{_rel(root, meta)}: release {release} is a SNAPSHOT")
    on_disk = sorted(p.name for p in ga_dir.iterdir() if p.is_dir())
    for version in on_disk:
        if version not in listed:
            problems.append(f"{_rel(root, ga_dir / version)}: on disk but not in "
                            f"{_rel(root, meta)}")
    check = listed if wanted is None or wanted.version is None else [wanted.version]
    if wanted is not None and wanted.version is not None and wanted.version not in listed:
        problems.append(f"{_rel(root, meta)} does not list {wanted.version}")
    for version in check:
        folder = ga_dir / version
        if not folder.is_dir():
            if version in listed:  # else said above: a --gav version the metadata lacks
                problems.append(f"{_rel(root, meta)} lists {version}, which is not on disk "
                                f"({_rel(root, folder)} is missing)")
            continue
        problems += _check_version(root, folder, Gav(group, artifact, version))
    return problems


def _check_version(root: Path, folder: Path, gav: Gav) -> list[str]:
    assert gav.version is not None
    problems: list[str] = []
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lstrip(".") not in _SUMS:
            problems += _checksums(root, path)
            if not gav.snapshot and _TIMESTAMPED.search(path.name):
                problems.append(f"{_rel(root, path)}: a timestamped (SNAPSHOT) name in a "
                                f"release folder")
    if gav.snapshot:
        meta = folder / METADATA
        try:
            doc = ET.fromstring(read_regular(meta, "Maven metadata"))
        except (InputError, ET.ParseError) as exc:
            return problems + [f"{_rel(root, meta)}: unreadable snapshot metadata ({exc})"]
        value = doc.findtext("versioning/snapshotVersions/snapshotVersion/value")
        base = f"{gav.artifact}-{value}"
    else:
        base = f"{gav.artifact}-{gav.version}"
    for suffix in (".pom", ".jar"):
        if not (folder / f"{base}{suffix}").is_file():
            problems.append(f"{_rel(root, folder)}: no {base}{suffix}")
    return problems + _check_evidence(root, folder / f"{base}-{EVIDENCE_CLASSIFIER}.zip",
                                      folder / f"{base}.jar", gav)


def _check_evidence(root: Path, zipped: Path, jar: Path, gav: Gav) -> list[str]:
    where = _rel(root, zipped)
    if not zipped.is_file():
        return [f"{where}: missing: {gav} has no evidence of its approval"]
    try:
        with zipfile.ZipFile(io.BytesIO(read_regular(zipped, "evidence zip"))) as zf:
            files = {n: zf.read(n) for n in zf.namelist()}
        doc = json.loads(files[VERDICT])
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        return [f"{where}: no readable {VERDICT} ({type(exc).__name__}: {exc})"]
    problems = []
    if doc.get("decision") != "approve":
        problems.append(f"{where}: the verdict is {doc.get('decision')!r}, not approve")
    if doc.get("gav") != str(gav):
        problems.append(f"{where}: the verdict is for {doc.get('gav')!r}, not {gav}")
    bundle = files.get("results.jsonl")
    bundle_sha = doc.get("bundle_sha256")
    if bundle is None or hashlib.sha256(bundle).hexdigest() != bundle_sha:
        problems.append(f"{where}: results.jsonl is missing or its SHA-256 is not the "
                        f"verdict's bundle_sha256 {bundle_sha}")
    for name, digest in (doc.get("files") or {}).items():
        if name not in files or hashlib.sha256(files[name]).hexdigest() != digest:
            problems.append(f"{where}: {name} is missing or differs from the verdict's "
                            f"SHA-256")
    if jar.is_file():
        try:
            with zipfile.ZipFile(io.BytesIO(read_regular(jar, "model jar"))) as zf:
                props = zf.read(PROPERTIES).decode("utf-8", "replace")
        except (zipfile.BadZipFile, KeyError) as exc:
            return problems + [f"{_rel(root, jar)}: no readable {PROPERTIES} ({exc})"]
        if f"bundle.sha256={bundle_sha}" not in props.splitlines():
            problems.append(f"{_rel(root, jar)}: its {PROPERTIES} names another bundle "
                            f"than the evidence's {bundle_sha}")
    return problems
