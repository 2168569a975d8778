"""The log's signing key on disk: one line (Go's note private-key form) in a file only its owner can read.

The key is kept apart from the database on purpose: whoever can rewrite the
database without the key cannot sign a checkpoint for the rewritten log, and
witnesses that kept earlier checkpoints notice a rewrite even by someone who
holds both. A key file anyone else can read is refused, as ssh refuses one.
"""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

from ..locale import _
from .checkpoints import NoteError, SigningKey

MAX_KEY_FILE_BYTES = 1024


class KeyFileError(Exception):
    """The key file is missing, unreadable, readable by others, or not a key."""


def default_name() -> str:
    """The default key name and checkpoint origin: ``dossier-rules/<host name>`` (no spaces or '+')."""
    host = "".join(c for c in socket.gethostname() if not c.isspace() and c != "+") or "localhost"
    return f"dossier-rules/{host}"


def create(path: Path, name: str) -> SigningKey:
    """Write a new key to ``path`` (mode 0600, never over an existing file)."""
    key = SigningKey.generate(name)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(_("{path}: a key file is already there; it is never overwritten", path=path)) from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(key.text() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return key


def load(path: Path) -> SigningKey:
    """The key in ``path``; :class:`KeyFileError` when it is missing, readable by others or malformed."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(_("{path}: not a key file", path=path))
        if info.st_mode & 0o077:
            raise KeyFileError(_("{path}: the signing key can be read by others (mode {mode:o}); make it 0600", path=path, mode=stat.S_IMODE(info.st_mode)))
        with path.open(encoding="ascii") as handle:
            text = handle.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise KeyFileError(_("{path}: cannot read the signing key: {reason}", path=path, reason=exc.strerror)) from None
    except UnicodeDecodeError:
        raise KeyFileError(_("{path}: not a key file", path=path)) from None
    try:
        return SigningKey.parse(text)
    except NoteError as exc:
        raise KeyFileError(_("{path}: not a signing key: {reason}", path=path, reason=exc)) from None


def load_or_create(path: Path) -> tuple[SigningKey, bool]:
    """The key in ``path``, created first (named :func:`default_name`) if there is no file; and whether it was created."""
    if path.exists():
        return load(path), False
    return create(path, default_name()), True
