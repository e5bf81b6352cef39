"""Batch entries: one submission as bytes (a folder zipped deterministically, a file, a zip),
and back into files, refusing zip slip, links and zip bombs before writing a byte."""

from __future__ import annotations

import hashlib
import io
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.submission import MAX_BYTES, package_files

MAX_MEMBERS = 1000


MAX_RATIO = 100
"""Largest compressed-to-uncompressed ratio of a zip member: beyond it, a zip bomb."""


class Refused(Exception):
    """An entry that is not graded at all (unsafe zip, unknown file type); the message says why."""


@dataclass(frozen=True)
class Entry:
    """One submission of the batch, packed as bytes so any machine can grade it."""

    id: str
    """The entry's file or folder name."""
    kind: str
    """"folder" (data is a zip we made), "zip" (the student's zip) or "file" (.py, .ipynb)."""
    data: bytes
    sha256: str
    """Hash of kind, name and bytes: with the grader version, the resume key."""


def pack(path: Path) -> Entry:
    """Read an entry into bytes: a folder becomes a deterministic zip of its files."""
    if path.is_dir():
        buffer, total = io.BytesIO(), 0
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for file in package_files(path):  # the files a grading of the folder would copy
                total += file.stat().st_size
                if total > MAX_BYTES:
                    raise Refused(f"the folder holds more than {MAX_BYTES // 2**20} MB")
                info = zipfile.ZipInfo(file.relative_to(path).as_posix())
                zf.writestr(info, file.read_bytes(), zipfile.ZIP_DEFLATED)
        kind, data = "folder", buffer.getvalue()
    elif path.suffix in (".py", ".ipynb", ".zip") and path.is_file():
        if path.stat().st_size > MAX_BYTES:
            raise Refused(f"the file is larger than {MAX_BYTES // 2**20} MB")
        kind, data = ("zip" if path.suffix == ".zip" else "file"), path.read_bytes()
    else:
        raise Refused("not a folder, .py, .ipynb or .zip file")
    digest = hashlib.sha256(f"{kind}\0{path.name}\0".encode() + data).hexdigest()
    return Entry(path.name, kind, data, digest)


def unpack(entry: Entry, dest: Path) -> Path:
    """Write the entry under `dest`; return the path to grade."""
    if entry.kind == "file":
        (dest / entry.id).write_bytes(entry.data)
        return dest / entry.id
    root = dest / (entry.id if entry.kind == "folder" else "unzipped")
    extract_zip(entry.data, root)
    if entry.kind == "folder":
        return root
    top = [p for p in root.iterdir() if p.name != "__MACOSX" and not p.name.startswith(".")]
    if len(top) == 1 and (top[0].is_dir() or top[0].suffix in (".py", ".ipynb")):
        return top[0]
    return root


def extract_zip(data: bytes, root: Path) -> None:
    """Extract a zip into `root`, refusing zip slip, links and zip bombs before writing a byte."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise Refused("the .zip file is damaged or not a zip file") from None
    with zf:
        members = zf.infolist()
        if len(members) > MAX_MEMBERS:
            raise Refused(f"the .zip holds {len(members)} files; at most {MAX_MEMBERS} allowed")
        if sum(m.file_size for m in members) > MAX_BYTES:
            raise Refused(f"the .zip unpacks to more than {MAX_BYTES // 2**20} MB (zip bomb?)")
        for m in members:
            name = PurePosixPath(m.filename)
            if name.is_absolute() or ".." in name.parts or "\\" in m.filename or ":" in m.filename:
                raise Refused(f"the .zip member {m.filename!r} would land outside its folder")
            if (m.external_attr >> 16) & 0o170000 == 0o120000:
                raise Refused(f"the .zip member {m.filename!r} is a symbolic link")
            if m.file_size > 1024 * 1024 and m.file_size > MAX_RATIO * max(m.compress_size, 1):
                raise Refused(
                    f"the .zip member {m.filename!r} is compressed over {MAX_RATIO}:1 (zip bomb?)"
                )
        root.mkdir(parents=True)
        for m in members:
            target = root.joinpath(*PurePosixPath(m.filename).parts)
            if m.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(m) as src, open(target, "wb") as dst:  # zipfile stops at file_size
                shutil.copyfileobj(src, dst)
