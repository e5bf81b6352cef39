"""grader/entries.py: an entry packed as bytes, unpacked only when it is safe."""

import io
import zipfile

import pytest

from grader import entries


def test_zip_checks_refuse_before_writing(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for i in range(entries.MAX_MEMBERS + 1):
            zf.writestr(f"f{i}.py", "")
    with pytest.raises(entries.Refused, match="at most"):
        entries.extract_zip(buffer.getvalue(), tmp_path / "x")
    with pytest.raises(entries.Refused, match="damaged"):
        entries.extract_zip(b"not a zip", tmp_path / "y")
    assert not (tmp_path / "x").exists()


def test_a_folder_packs_to_the_same_bytes_twice(tmp_path):
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "engine.py").write_text("x = 1\n")
    (tmp_path / "work" / "__pycache__").mkdir()
    (tmp_path / "work" / "__pycache__" / "engine.pyc").write_bytes(b"\0")
    first, second = entries.pack(tmp_path / "work"), entries.pack(tmp_path / "work")
    assert first == second and first.kind == "folder"
    entries.unpack(first, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == ["engine.py", "work"]
