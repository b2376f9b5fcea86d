import stat

import pytest

from mlqa._atomic import write_atomic


def test_writes_whole_files_readable_by_others(tmp_path):
    target = tmp_path / "r.json"
    write_atomic(target, "caf\u00e9")
    assert target.read_bytes() == "caf\u00e9".encode()
    write_atomic(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # not mkstemp's 0600
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temp file left


def test_a_failed_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "r.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_atomic(target, 12345)  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
