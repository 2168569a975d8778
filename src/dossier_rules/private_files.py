"""Files that may hold personal data: created readable by their owner only (0600, folders 0700), whatever the umask.

Reports, exports, notices, log archives and imported dossiers name
candidates and their documents. A umask of 022, the usual default, would
make each of them readable by every account on the machine; here the mode
is set on the open file, so the umask plays no part.

A whole-file output is written to a temporary file in the same folder,
synced, then renamed over the target: a reader (or a crash) sees the old file
or the new one, never half of one, and a failed write leaves no debris.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> None:
    """Create ``path`` and any missing parent, each created one 0700; folders that exist are left as they are."""
    missing = []
    here = path
    while not here.exists():
        missing.append(here)
        if here.parent == here:
            break
        here = here.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(folder, DIR_MODE)  # mkdir's mode passes through the umask


@contextmanager
def private_output(path: Path) -> Iterator[IO[bytes]]:
    """A binary stream that becomes ``path`` (0600) once the ``with`` block ends without an exception."""
    with _replace_atomically(path, "wb") as handle:
        yield handle


@contextmanager
def private_text(path: Path, encoding: str = "utf-8") -> Iterator[IO[str]]:
    """A text stream (UTF-8, or ``utf-8-sig`` for Excel; newlines as written) that becomes ``path`` (0600) once the ``with`` block ends without an exception."""
    with _replace_atomically(path, "w", encoding) as handle:
        yield handle


@contextmanager
def _replace_atomically(path: Path, mode: str, text_encoding: str = "utf-8") -> Iterator[IO[Any]]:
    """Write through a temporary file renamed over the target (followed if a link); a device or FIFO is written in place.

    ``/dev/stdout`` or ``/dev/full`` named as an output is not a file to
    replace (renaming over it would put a file where the device was): it is
    opened and written as it is, and keeps its own mode.
    """
    text = "b" not in mode
    encoding, newline = (text_encoding, "") if text else (None, None)
    if path.exists() and not path.is_file():
        with open(path, mode, encoding=encoding, newline=newline) as stream:
            yield stream
        return
    target = Path(os.path.realpath(path))
    private_dir(target.parent)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _sync_dir(target.parent)


def write_private(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` as a private file, atomically (see :func:`private_output`)."""
    if isinstance(data, str):
        with private_text(path) as text:
            text.write(data)
    else:
        with private_output(path) as binary:
            binary.write(data)


def open_private_append(path: Path) -> IO[bytes]:
    """``path`` opened for appending, created if missing; a regular file is made 0600 (an output ``--resume`` continues).

    A device or FIFO keeps its own mode: it is not a file this program made.
    """
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, FILE_MODE)
    if stat.S_ISREG(os.fstat(fd).st_mode):
        os.fchmod(fd, FILE_MODE)
    return os.fdopen(fd, "ab")


def _sync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX: the directory entry is data of the directory)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
