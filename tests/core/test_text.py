import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from mlqa._text import _ILLEGAL, clean_text, fmt_num, one_line


def test_controls_ansi_and_bad_bytes_are_replaced_not_dropped():
    assert clean_text("\x1b[31mred\x1b[0m") == "red"
    assert clean_text("a\x00b\x07c\x7fd\x85e") == "a\ufffdb\ufffdc\ufffdd\ufffde"
    assert clean_text(b"ok \xff\xfe") == "ok \ufffd\ufffd"
    assert clean_text("lone \udcff surrogate") == "lone \ufffd surrogate"
    assert clean_text("tab\tnew\nline") == "tab\tnew\nline"
    assert one_line("tab\tnew\n  line") == "tab new line"


def test_long_text_keeps_head_and_tail_within_bound():
    text = "HEAD" + "x" * 10_000 + "TAIL"
    cut = clean_text(text, max_chars=200)
    assert len(cut) <= 200 and cut.startswith("HEAD") and cut.endswith("TAIL")
    assert "chars cut" in cut


@given(st.text() | st.binary())
def test_anything_becomes_legal_xml(value):
    text = clean_text(value, max_chars=500)
    element = ET.Element("failure", message=text)
    element.text = text
    parsed = ET.fromstring(ET.tostring(element, encoding="unicode"))  # raises if not legal
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    assert (parsed.text or "") in (text, normalised)
    assert not _ILLEGAL.search(text) and "\x1b" not in text


def test_fmt_num():
    assert [fmt_num(x) for x in (0.87412, 12.5, 2000, 123456.0, 1e-6, None, float("nan"))] == \
        ["0.8741", "12.5", "2000", "1.235e+05", "1.000e-06", "n/a", "nan"]
