"""Batch entries: one submission as bytes (a folder zipped deterministically, a file, a zip),
and back into files, refusing any zip that would not unpack exactly as listed, before writing
a byte."""

from __future__ import annotations

import hashlib
import io
import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.submission import MAX_BYTES, package_files

MAX_MEMBERS = 1000
MAX_RATIO = 100
"""Largest compressed-to-uncompressed ratio of a zip member: beyond it, a zip bomb."""
MAX_DEPTH = 32
"""Deepest folder nesting inside a zip: real homework is a few levels deep."""
MAX_NAME_BYTES = 200
"""Longest file or folder name inside a zip (filesystems stop at 255 bytes)."""
READABLE_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
KINDS = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
}
"""File types a member's Unix mode may claim that are not plain files or folders."""


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
    name = path.name.encode("utf-8", "surrogateescape")
    digest = hashlib.sha256(kind.encode() + b"\0" + name + b"\0" + data).hexdigest()
    return Entry(path.name, kind, data, digest)


def unpack(entry: Entry, dest: Path) -> Path:
    """Write the entry under `dest`; return the path to grade."""
    if entry.kind == "file":
        (dest / entry.id).write_bytes(entry.data)
        return dest / entry.id
    root = dest / (entry.id if entry.kind == "folder" else "unzipped")
    extract_zip(entry.data, root)
    return gradable(root)


def gradable(root: Path) -> Path:
    """The folder to grade, or the one folder, .py or notebook it holds alone: LMS downloads
    and zips wrap a student's upload in folders of their own."""
    while True:
        top = [p for p in root.iterdir() if p.name != "__MACOSX" and not p.name.startswith(".")]
        if len(top) != 1 or top[0].is_symlink() or top[0].name == "__init__.py":
            return root
        if not top[0].is_dir():
            return top[0] if top[0].suffix in (".py", ".ipynb") else root
        root = top[0]


def extract_zip(data: bytes, root: Path) -> None:
    """Extract a zip into `root` after checking every member; Refused says what is wrong."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        members = zf.infolist()
    except Exception as exc:  # zipfile raises many kinds for a damaged central directory
        raise Refused(f"the .zip file is damaged or not a zip file ({error_text(exc)})") from None
    with zf:
        check_members(members)
        root.mkdir()
        try:
            for m in members:
                target = root.joinpath(*PurePosixPath(m.filename).parts)
                if m.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(m) as src, open(target, "xb") as dst:  # zipfile stops at file_size
                    shutil.copyfileobj(src, dst)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
            # Bad CRCs, truncated or corrupt data, encryption: what the listing could not show.
            raise Refused(f"the .zip file is damaged ({error_text(exc)})") from None


def check_members(members: list[zipfile.ZipInfo]) -> None:
    """Refuse zip slip, links, devices, clashing or over-long names and zip bombs."""
    if len(members) > MAX_MEMBERS:
        raise Refused(f"the .zip holds {len(members)} files; at most {MAX_MEMBERS} allowed")
    if sum(m.file_size for m in members) > MAX_BYTES:
        raise Refused(f"the .zip unpacks to more than {MAX_BYTES // 2**20} MB (zip bomb?)")
    files: set[tuple[str, ...]] = set()
    folders: set[tuple[str, ...]] = set()
    for m in members:
        shown = ascii(m.filename) if len(m.filename) <= 80 else ascii(m.filename[:77] + "...")
        name = PurePosixPath(m.filename)
        if name.is_absolute() or ".." in name.parts or "\\" in m.filename or ":" in m.filename:
            raise Refused(f"the .zip member {shown} would land outside its folder")
        if not name.parts:
            raise Refused(f"the .zip member {shown} has no name")
        if len(name.parts) > MAX_DEPTH:
            raise Refused(f"the .zip member {shown} is nested over {MAX_DEPTH} folders deep")
        if any(
            len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES for part in name.parts
        ):
            raise Refused(f"the .zip member {shown} has a name over {MAX_NAME_BYTES} bytes long")
        kind = KINDS.get(stat.S_IFMT(m.external_attr >> 16)) if m.create_system == 3 else None
        if kind:
            raise Refused(f"the .zip member {shown} is {kind}")
        if m.flag_bits & 0x1:
            raise Refused(f"the .zip member {shown} is encrypted; zip it again without a password")
        if m.compress_type not in READABLE_METHODS:
            method = getattr(zipfile, "compressor_names", {}).get(m.compress_type, m.compress_type)
            raise Refused(
                f"the .zip member {shown} is compressed with a method Python cannot read "
                f"({method}); zip it again with the usual settings (deflate)"
            )
        if m.file_size > 1024 * 1024 and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise Refused(f"the .zip member {shown} is compressed over {MAX_RATIO}:1 (zip bomb?)")
        parts = name.parts
        if not m.is_dir() and parts in files:
            raise Refused(f"the .zip holds the file {shown} twice")
        (folders if m.is_dir() else files).add(parts)
        folders.update(parts[:i] for i in range(1, len(parts)))
    clash = files & folders
    if clash:
        raise Refused(
            f"the .zip holds both a file and a folder named {ascii('/'.join(min(clash)))}"
        )


def error_text(exc: BaseException) -> str:
    """An exception as `Type: message`, short enough for a status cell."""
    return f"{type(exc).__name__}: {str(exc)[:200]}" if str(exc) else type(exc).__name__
