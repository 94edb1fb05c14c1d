"""Content hashes of registered folders and files, with a cheap check for "unchanged".

A registered model or environment points at files on the host (copying multi-gigabyte
model folders into a store would double them). To notice a folder that changed after it
was registered, the registry keeps two digests: the *content* hash (every file's bytes,
by relative path) and a *stat* fingerprint (relative path, size, mtime). Resolving an
asset compares the fingerprint, which costs a directory walk; only when it differs are
the bytes hashed again, so an unchanged model is never re-read on every ``devkit status``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

_CHUNK = 1 << 20


def _files(root: Path) -> Iterator[tuple[str, Path]]:
    if root.is_file():
        yield root.name, root
        return
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = Path(folder) / name
            yield path.relative_to(root).as_posix(), path


def content_hash(roots: Sequence[Path]) -> str:
    """sha256 of every file's relative path and bytes under ``roots`` (files or folders)."""
    digest = hashlib.sha256(b"devkit-asset-content/1\0")
    for index, root in enumerate(roots):
        digest.update(f"root {index}\0".encode())
        for relative, path in _files(root):
            digest.update(relative.encode() + b"\0")
            with path.open("rb") as stream:
                while chunk := stream.read(_CHUNK):
                    digest.update(chunk)
            digest.update(b"\0")
    return digest.hexdigest()


def stat_fingerprint(roots: Sequence[Path]) -> str:
    """sha256 of every file's relative path, size and mtime: changes whenever a file is
    written, added or removed (and, rarely, when it is merely touched)."""
    digest = hashlib.sha256(b"devkit-asset-stat/1\0")
    for index, root in enumerate(roots):
        digest.update(f"root {index}\0".encode())
        if not root.exists():
            digest.update(b"missing\0")
            continue
        for relative, path in _files(root):
            info = path.stat()
            digest.update(f"{relative}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return digest.hexdigest()
