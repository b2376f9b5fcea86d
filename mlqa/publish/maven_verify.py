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


class FolderReader:
    """A repository folder: every file can be read and every folder listed."""

    def __init__(self, root: Path):
        self.root = root
        self.name = str(root)

    def read(self, rel: str) -> bytes | None:
        path = self.root / rel
        return read_regular(path, "repository file") if path.is_file() else None

    def listing(self, rel: str) -> tuple[list[str], list[str]] | None:
        """(sub-folders, files) directly under ``rel``; ([], []) where there is no folder."""
        folder = self.root / rel
        if not folder.is_dir():
            return [], []
        entries = sorted(folder.iterdir())
        return [p.name for p in entries if p.is_dir()], [p.name for p in entries if p.is_file()]

    def ga_metadata_files(self) -> list[str]:
        found = []
        for path in self.root.rglob(METADATA):
            try:
                doc = ET.fromstring(read_regular(path, "Maven metadata"))
            except (ET.ParseError, InputError):
                found.append(path.relative_to(self.root).as_posix())  # reported later
                continue
            if doc.find("version") is None:  # version-level (snapshot) metadata names a version
                found.append(path.relative_to(self.root).as_posix())
        return sorted(found)


class HttpReader:
    """A repository over HTTP: files are fetched; nothing can be listed, so what is checked is
    what the metadata names (versions on the server but missing from it cannot be seen)."""

    def __init__(self, url: str):
        from mlqa.publish.maven_http import MavenHttpRepo

        self.repo = MavenHttpRepo(url)
        self.name = self.repo.url

    def read(self, rel: str) -> bytes | None:
        return self.repo.get(rel)

    def listing(self, rel: str) -> tuple[list[str], list[str]] | None:
        return None


Reader = FolderReader | HttpReader


def open_reader(location: str | os.PathLike[str]) -> Reader:
    """The repository at ``location``: an http(s) URL, else a folder (InputError if none)."""
    from mlqa.publish.maven_http import is_url

    if is_url(location):
        return HttpReader(str(location))
    if not Path(location).is_dir():
        raise InputError(f"{location}: not a folder or an http(s):// URL")
    return FolderReader(Path(location))


def verify(repo: str | os.PathLike[str], *, gav: str | None = None) -> list[str]:
    """The problems found in the repository ``repo`` (empty: consistent): a folder, or an
    http(s) URL (credentials as for publishing; ``gav`` is then needed: a server cannot be
    listed).

    ``gav`` (``group:artifact[:version]``) limits the check to one artifact or one version.
    InputError where the repository, or the named artifact, is not there to check.
    """
    wanted = None if gav is None else parse_gav(gav, version_required=False)
    reader = open_reader(repo)
    if isinstance(reader, HttpReader) and wanted is None:
        raise InputError(f"{reader.name}: name the artifact with --gav "
                         f"group:artifact[:version] (a repository server cannot be listed)")
    if wanted is not None:
        meta = f"{wanted.folder.as_posix()}/{METADATA}"
        data = reader.read(meta)
        if data is None and not (isinstance(reader, FolderReader) and
                                 os.path.lexists(reader.root / meta)):
            raise InputError(f"{wanted}: no {meta} in {reader.name}")
        metas = [meta]
    else:
        assert isinstance(reader, FolderReader)
        metas = reader.ga_metadata_files()
        if not metas:
            raise InputError(f"{repo}: no {METADATA} of any artifact (not a Maven repository "
                             f"folder, or nothing was published)")
    problems: list[str] = []
    for meta in metas:
        problems += _check_artifact(reader, meta, wanted)
    return problems


def _parent(rel: str) -> str:
    return rel.rsplit("/", 1)[0] if "/" in rel else ""


def _checksums(repo: Reader, rel: str, data: bytes | None = None) -> list[str]:
    """Problems with ``rel``'s checksum files: md5 and sha1 must exist, all present match."""
    problems = []
    if data is None:
        data = repo.read(rel)
        if data is None:
            return [f"{rel}: missing"]
    for algorithm in _SUMS:
        side = repo.read(f"{rel}.{algorithm}")
        if side is None:
            if algorithm in DEFAULT_CHECKSUMS:
                problems.append(f"{rel}: no .{algorithm} checksum")
            continue
        # Maven tolerates "<hex>  <file name>" in a checksum file: the first word counts.
        words = side.decode("ascii", "replace").split()
        if not words or words[0].lower() != checksum(data, algorithm):
            problems.append(f"{rel}.{algorithm}: does not match the file "
                            f"({algorithm} is {checksum(data, algorithm)})")
    return problems


def _check_artifact(repo: Reader, meta: str, wanted: Gav | None) -> list[str]:
    ga_dir = _parent(meta)
    data = repo.read(meta)
    try:
        doc = ET.fromstring(data if data is not None else b"")
    except ET.ParseError as exc:
        return [f"{meta}: not valid XML ({exc})"]
    assert data is not None
    problems = _checksums(repo, meta, data)
    group, artifact = doc.findtext("groupId") or "", doc.findtext("artifactId") or ""
    expected = Path(*group.split("."), artifact).as_posix() if group and artifact else None
    if expected != ga_dir:
        problems.append(f"{meta}: names {group}:{artifact}, which does not live in {ga_dir}")
    listed = [v.text or "" for v in doc.iterfind("versioning/versions/version")]
    for tag in ("latest", "release"):
        value = doc.findtext(f"versioning/{tag}")
        if value and value not in listed:
            problems.append(f"{meta}: {tag} {value} is not in its version list")
    release = doc.findtext("versioning/release")
    if release and release.endswith(SNAPSHOT):
        problems.append(f"{meta}: release {release} is a SNAPSHOT")
    listing = repo.listing(ga_dir)
    on_disk = None if listing is None else listing[0]
    for version in on_disk or []:
        if version not in listed:
            problems.append(f"{ga_dir}/{version}: on disk but not in {meta}")
    check = listed if wanted is None or wanted.version is None else [wanted.version]
    if wanted is not None and wanted.version is not None and wanted.version not in listed:
        problems.append(f"{meta} does not list {wanted.version}")
    for version in check:
        folder = f"{ga_dir}/{version}"
        if on_disk is not None and version not in on_disk:
            if version in listed:  # else said above: a --gav version the metadata lacks
                problems.append(f"{meta} lists {version}, which is not on disk "
                                f"({folder} is missing)")
            continue
        problems += _check_version(repo, folder, Gav(group, artifact, version),
                                   listed=version in listed)
    return problems


def _check_version(repo: Reader, folder: str, gav: Gav, *, listed: bool) -> list[str]:
    assert gav.version is not None
    problems: list[str] = []
    if gav.snapshot:
        meta = f"{folder}/{METADATA}"
        try:
            doc = ET.fromstring(repo.read(meta) or b"")
        except ET.ParseError as exc:
            return problems + [f"{meta}: unreadable or missing snapshot metadata ({exc})"]
        value = doc.findtext("versioning/snapshotVersions/snapshotVersion/value")
        base = f"{gav.artifact}-{value}"
    else:
        base = f"{gav.artifact}-{gav.version}"
    expected = [f"{base}{suffix}" for suffix in (".pom", ".jar", f"-{EVIDENCE_CLASSIFIER}.zip")]
    listing = repo.listing(folder)
    names = expected if listing is None else listing[1]
    if listing is None and listed and repo.read(f"{folder}/{base}.pom") is None \
            and repo.read(f"{folder}/{base}.jar") is None:
        return [f"{_parent(folder)}/{METADATA} lists {gav.version}, which is not on the "
                f"server ({folder}/{base}.pom is missing)"]
    files: dict[str, bytes] = {}
    for name in names:
        if name.rsplit(".", 1)[-1] in _SUMS:
            continue
        data = repo.read(f"{folder}/{name}")
        if data is None:
            continue  # a missing pom/jar/zip is named below
        files[name] = data
        problems += _checksums(repo, f"{folder}/{name}", data)
        if not gav.snapshot and _TIMESTAMPED.search(name):
            problems.append(f"{folder}/{name}: a timestamped (SNAPSHOT) name in a release "
                            f"folder")
    for suffix in (".pom", ".jar"):
        if f"{base}{suffix}" not in files:
            problems.append(f"{folder}: no {base}{suffix}")
    zipped = f"{base}-{EVIDENCE_CLASSIFIER}.zip"
    return problems + _check_evidence(f"{folder}/{zipped}", files.get(zipped),
                                      files.get(f"{base}.jar"), gav)


def evidence_problems(where: str, zipped: bytes, gav: Gav) -> tuple[list[str], dict[str, bytes]]:
    """(problems, the zip's files) of one version's evidence zip: a readable ``verdict.json``
    that says APPROVE for ``gav`` and the SHA-256 of the results bundle zipped beside it, and
    every file it lists present with its stated SHA-256."""
    try:
        with zipfile.ZipFile(io.BytesIO(zipped)) as zf:
            files = {n: zf.read(n) for n in zf.namelist()}
        doc = json.loads(files[VERDICT])
        if not isinstance(doc, dict):
            raise ValueError(f"{VERDICT} is not a JSON object")
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        return [f"{where}: no readable {VERDICT} ({type(exc).__name__}: {exc})"], {}
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
    stated = doc.get("files") or {}
    for name, digest in stated.items():
        if name not in files or hashlib.sha256(files[name]).hexdigest() != digest:
            problems.append(f"{where}: {name} is missing or differs from the verdict's "
                            f"SHA-256")
    for name in files:
        if name != VERDICT and name not in stated:
            problems.append(f"{where}: {name} is not bound by the verdict (no SHA-256 for it)")
    return problems, files


def _check_evidence(where: str, zipped: bytes | None, jar: bytes | None, gav: Gav) -> list[str]:
    if zipped is None:
        return [f"{where}: missing: {gav} has no evidence of its approval"]
    problems, files = evidence_problems(where, zipped, gav)
    if not files:
        return problems
    bundle_sha = json.loads(files[VERDICT]).get("bundle_sha256")
    if jar is not None:
        jar_where = where.replace(f"-{EVIDENCE_CLASSIFIER}.zip", ".jar")
        try:
            with zipfile.ZipFile(io.BytesIO(jar)) as zf:
                props = zf.read(PROPERTIES).decode("utf-8", "replace")
        except (zipfile.BadZipFile, KeyError) as exc:
            return problems + [f"{jar_where}: no readable {PROPERTIES} ({exc})"]
        if f"bundle.sha256={bundle_sha}" not in props.splitlines():
            problems.append(f"{jar_where}: its {PROPERTIES} names another bundle than the "
                            f"evidence's {bundle_sha}")
    return problems
