"""grader/batch/entries.py: an entry packed as bytes, unpacked only when every member is safe."""

import io
import stat
import struct
import zipfile

import pytest

from grader.batch import entries


def zip_of(*members: tuple[zipfile.ZipInfo | str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for info, data in members:
            zf.writestr(info, data)
    return buffer.getvalue()


def member(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix: the mode in external_attr counts
    info.external_attr = mode << 16
    return info


def with_method(data: bytes, method: int) -> bytes:
    """The same zip with every member claiming compression `method` (local and central)."""
    data = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = data.find(signature)
        while at != -1:
            struct.pack_into("<H", data, at + offset, method)
            at = data.find(signature, at + 4)
    return bytes(data)


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


HOSTILE = {
    "a file and a folder of one name": (
        zip_of(("exercises", b"x"), ("exercises/__init__.py", b"")),
        "both a file and a folder named 'exercises'",
    ),
    "a folder member over a file": (
        zip_of(("engine.py", b"x"), (zipfile.ZipInfo("engine.py/"), b"")),
        "both a file and a folder",
    ),
    "the same file twice": (zip_of(("a.py", b"1"), ("./a.py", b"2")), "twice"),
    "a device": (zip_of((member("tty", stat.S_IFCHR | 0o666), b"")), "is a device"),
    "a named pipe": (zip_of((member("fifo", stat.S_IFIFO | 0o666), b"")), "named pipe"),
    "a symbolic link": (zip_of((member("up", stat.S_IFLNK | 0o777), b"/etc")), "symbolic link"),
    "an over-long name": (zip_of(("x" * 300 + ".py", b"")), "over 200 bytes long"),
    "folders nested too deep": (zip_of(("d/" * 40 + "a.py", b"")), "nested over 32"),
    "a member with no name": (zip_of(("/", b"")), "outside its folder|has no name"),
    "an unsupported compression method": (
        with_method(zip_of(("a.py", b"x = 1\n")), 9),
        "method Python cannot read",
    ),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_zip_is_refused_before_a_byte_is_written(tmp_path, case):
    data, why = HOSTILE[case]
    with pytest.raises(entries.Refused, match=why):
        entries.extract_zip(data, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_damage_found_while_unpacking_is_a_refusal(tmp_path):
    data = zip_of(("engine.py", b"class Value:\n    pass\n"))
    damaged = data.replace(b"class Value", b"class Wrong", 1)  # the CRC no longer matches
    with pytest.raises(entries.Refused, match="damaged .*CRC"):
        entries.extract_zip(damaged, tmp_path / "x")
    encrypted = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = encrypted.find(signature)
        encrypted[at + offset] |= 0x1
    with pytest.raises(entries.Refused, match="encrypted"):
        entries.extract_zip(bytes(encrypted), tmp_path / "y")


def test_a_folder_packs_to_the_same_bytes_twice(tmp_path):
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "engine.py").write_text("x = 1\n")
    (tmp_path / "work" / "__pycache__").mkdir()
    (tmp_path / "work" / "__pycache__" / "engine.pyc").write_bytes(b"\0")
    first, second = entries.pack(tmp_path / "work"), entries.pack(tmp_path / "work")
    assert first == second and first.kind == "folder"
    (tmp_path / "out").mkdir()
    graded = entries.unpack(first, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == ["engine.py", "work"]
    assert graded == tmp_path / "out" / "work" / "engine.py"  # a lone file is graded as such


def test_what_is_graded_is_the_upload_inside_its_wrappers(tmp_path):
    wrapped = tmp_path / "Jane Doe_4242_assignsubmission_file" / "my_hw"
    wrapped.mkdir(parents=True)
    (wrapped / "__MACOSX").mkdir()
    (wrapped / "scratch_mlp.ipynb").write_text("{}")
    assert entries.gradable(tmp_path) == wrapped / "scratch_mlp.ipynb"
    (wrapped / "notes.txt").write_text("")
    assert entries.gradable(tmp_path) == wrapped


def test_an_undecodable_file_name_packs(tmp_path):
    name = b"\xff\xfe.py".decode("utf-8", "surrogateescape")
    (tmp_path / name).write_text("x = 1\n")
    entry = entries.pack(tmp_path / name)
    assert entry.id == name and entry.kind == "file"
