"""Text that is safe to put in JUnit XML, terminals and one-line messages.

Jenkins' parser rejects a whole report over one C0 control character, and pytest turns the
ones it sees into visible ``#x1B`` noise, so every string a check produces passes through here.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

MAX_MESSAGE_CHARS = 2000

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")
# C0 (but TAB/LF/CR), DEL, C1, UTF-16 surrogates (lone ones come from undecodable bytes) and
# the non-characters XML 1.0 forbids.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SPACE = re.compile(r"\s+")


def clean_text(value: object, *, max_chars: int | None = None, one_line: bool = False) -> str:
    """Return ``value`` as a str that is legal XML 1.0, free of ANSI escapes, optionally bounded.

    Bytes are decoded as UTF-8 with U+FFFD for what does not decode; illegal characters become
    U+FFFD so the reader sees that something was there. Long text keeps its head and tail.
    """
    if isinstance(value, bytes | bytearray):
        text = bytes(value).decode("utf-8", errors="replace")
    else:
        text = str(value)
    text = _ANSI.sub("", text)
    text = _ILLEGAL.sub("\ufffd", text)
    if one_line:
        text = _SPACE.sub(" ", text).strip()
    if max_chars is not None and len(text) > max_chars:
        cut = len(text) - max_chars
        marker = f" …[{cut} chars cut]… "
        keep = max(0, max_chars - len(marker))
        text = text[: keep - keep // 4] + marker + text[len(text) - keep // 4:]
    return text


# Letters and symbols that draw nothing (Hangul fillers, the blank Braille pattern): a name made
# of them is as empty as one made of spaces.
_BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def has_visible(value: str) -> bool:
    """Whether ``value`` holds a character a reader can see: spaces (Zs, Zl, Zp), format
    characters (Cf: zero-width space, word joiner, BOM), controls, unassigned and private-use
    code points, lone combining marks and blank glyphs do not count."""
    return any(unicodedata.category(c)[0] in "LNPS" and c not in _BLANK_GLYPHS for c in value)


def one_line(value: object, max_chars: int = MAX_MESSAGE_CHARS) -> str:
    """A single bounded line: how messages are written."""
    return clean_text(value, max_chars=max_chars, one_line=True)


def fmt_num(x: float | int | None) -> str:
    """Numbers in messages: 4 significant digits, no scientific notation for ordinary sizes."""
    if x is None:
        return "n/a"
    if isinstance(x, int) and not isinstance(x, bool):
        return str(x)
    x = float(x)
    if x != x:
        return "nan"
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    if x == 0 or 1e-3 <= abs(x) < 1e5:
        return f"{x:.4g}" if abs(x) < 1e4 else f"{x:.0f}"
    return f"{x:.3e}"


def did_you_mean(word: object, choices: Iterable[object]) -> str:
    """`` (did you mean 'min'?)`` when ``word`` is close to one of ``choices``, else ``""``:
    the one suggestion YAML suites and the Python API both give for a misspelt name."""
    options = [str(c) for c in choices if c is not None]
    close = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
