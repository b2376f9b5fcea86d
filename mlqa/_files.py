"""Reading the files a gatekeeper's command is handed: the results bundle, its session record
and provenance, a waivers file, a gate policy.

They come from a build workspace anyone with commit rights shapes, so reading one must never
block or blow up: only a regular file is read (a FIFO would block ``open`` forever, a device
would never end), it is opened non-blocking so a file swapped for a FIFO after a check cannot
block either, and a path that does not lead to a file says why (a symlink loop, a dangling
symlink, a permission) instead of "does not exist". JSON documents are read with a depth limit:
a line nested 200,000 levels deep is refused with its file and line, not an internal error.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlqa.errors import InputError

# Deeper than any record mlqa writes (a drift result's details are about 5 levels), shallow
# enough that no recursive reader of the document (to_plain, the report) can run out of stack.
MAX_DEPTH = 64

_KINDS = {stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a folder",
          stat.S_IFLNK: "a symlink"}


def _why(path: str | os.PathLike[str], exc: OSError) -> str:
    """Why opening ``path`` failed with ``exc``, in words: a symlink loop or a dangling symlink
    is said as such (``os.path.exists`` calls both "does not exist")."""
    code = exc.errno
    if code == errno.ELOOP:
        return "a symlink loop: the path never reaches a file"
    if code == errno.ENOENT:
        return "a symlink to nothing: its target does not exist" if os.path.islink(path) \
            else "it does not exist"
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if code == errno.ENOTDIR:
        return "a folder in its path is a file"
    return exc.strerror or type(exc).__name__


def _kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def read_regular(path: str | os.PathLike[str], what: str) -> bytes:
    """The bytes of ``path`` if it is a regular file (a symlink to one counts), else an
    InputError naming ``what`` and the path and saying what it is instead."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) \
        | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError(f"{what} {path}: cannot be read ({_why(path, exc)})") \
            from None
    try:
        mode = os.fstat(fd).st_mode  # of what was opened: no swap after a check can fool it
        if not stat.S_ISREG(mode):
            raise InputError(f"{what} {path}: refused: it is {_kind(mode)}, not a regular "
                             f"file (reading it could block forever or never end)")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise InputError(f"{what} {path}: cannot be read ({_why(path, exc)})") \
            from None
    finally:
        os.close(fd)


def make_folder(directory: Path, option: str, file: Path | None = None) -> None:
    """Create ``directory`` (and its parents) for the output ``option`` names (``file``, or
    files), or an InputError naming the path and why not (a file where a folder must be, a
    permission): an output under a file is a mistake of the command line, not a crash."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in (directory, *directory.parents)
                        if p.exists() and not p.is_dir()), None)
        why = f"{blocker} is a file, not a folder" if blocker is not None \
            else exc.strerror or type(exc).__name__
        raise InputError(f"{option} {file or directory}: cannot create "
                         f"{'its folder' if file else 'the folder'} ({why})") from None


def write_output(path: Path, data: str | bytes, option: str) -> Path:
    """Write an output file atomically (its folder created), or an InputError naming the
    option and path and why not."""
    from mlqa._atomic import write_atomic

    make_folder(path.parent, option, path)
    try:
        return write_atomic(path, data)
    except OSError as exc:
        raise InputError(f"{option} {path}: cannot be written "
                         f"({exc.strerror or type(exc).__name__})") from None


def load_json(text: str, where: str, **options: Any) -> Any:
    """``json.loads(text, **options)`` refusing (InputError naming ``where``) a document nested
    deeper than :data:`MAX_DEPTH`; other decoding errors propagate for the caller to word."""
    try:
        doc = json.loads(text, **options)
    except RecursionError:
        raise InputError(f"{where}: nested too deeply (more than {MAX_DEPTH} levels): "
                         f"not a document mlqa writes") from None
    if _deeper_than(doc, MAX_DEPTH):
        raise InputError(f"{where}: nested more than {MAX_DEPTH} levels deep: not a document "
                         f"mlqa writes")
    return doc


def _deeper_than(doc: Any, limit: int) -> bool:
    """Whether ``doc`` nests lists/objects more than ``limit`` levels (iterative: no stack)."""
    stack: list[tuple[Any, int]] = [(doc, 0)]
    children: Callable[[Any], Any]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = dict.values
        elif isinstance(node, list):
            children = iter
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children(node))
    return False
