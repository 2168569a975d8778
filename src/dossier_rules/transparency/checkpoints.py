"""Signed checkpoints: a log's tree head (origin, size, root hash) in the signed-note form, signed with Ed25519.

The formats are the transparency ecosystem's, so existing tools read them:

* a **checkpoint** body is the origin line, the tree size in decimal, the root
  hash in standard base64, then optional extension lines (ours: ``time`` and
  the UTC time it was signed), each line ending in a newline (transparency-dev
  ``formats/log``, C2SP ``tlog-checkpoint``);
* a **signed note** is that text, a blank line, and one line per signature:
  an em dash (U+2014), a space, the key name, a space, and base64 of the
  4-byte key hash followed by the 64-byte Ed25519 signature of the text
  (``golang.org/x/mod/sumdb/note``, C2SP ``signed-note``);
* the key hash is the first 4 bytes of SHA-256 of the key name, a newline,
  the byte 0x01 (Ed25519) and the 32-byte public key;
* keys are written as Go's note keys: ``PRIVATE+KEY+<name>+<hash>+<base64>``
  for the signer (kept secret) and ``<name>+<hash>+<base64>`` for the verifier
  (handed to witnesses).

Parsing is strict and bounded (a note of at most :data:`MAX_NOTE_BYTES`, at
most :data:`MAX_SIGNATURES` signature lines): a note that does not parse, or
carries no valid signature by the expected key, raises :class:`NoteError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ..locale import N_, _
from .merkle import HASH_SIZE

ALG_ED25519 = 1
MAX_NOTE_BYTES = 16 * 1024
MAX_SIGNATURES = 100
DASH = "\u2014 "
_NAME = re.compile(r"[^\s+]+")
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")


class NoteError(ValueError):
    """A key, note or checkpoint that cannot be read, or a note no trusted key signed."""


class SignatureError(NoteError):
    """A well-formed note that the expected key did not sign (altered, forged, or another log's)."""


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise NoteError(_("{what} is not valid base64", what=_(what))) from None


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise NoteError(_("key name {name!r} must be non-empty, without spaces or '+'", name=name))
    return name


def key_hash(name: str, public: bytes) -> bytes:
    """The 4-byte hash that names a key in signature lines (sumdb/note's Ed25519 key hash)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public).digest()[:4]


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class VerifierKey:
    """A log's public key with its name: what a witness keeps to check the log's checkpoints."""

    name: str
    public: bytes

    @property
    def hash(self) -> bytes:
        return key_hash(self.name, self.public)

    def text(self) -> str:
        """``<name>+<8 hex digits>+<base64 of 0x01 and the key>``."""
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self.public).decode()
        return f"{self.name}+{self.hash.hex()}+{encoded}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        parts = text.strip().split("+", 2)  # the base64 key may itself hold "+"
        if len(parts) != 3:
            raise NoteError(_("a public key is <name>+<hash>+<key>"))
        name, hex_hash, encoded = parts
        raw = _b64decode(encoded, N_("the public key"))
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError(_("the public key is not an Ed25519 key"))
        key = cls(_check_name(name), raw[1:])
        if hex_hash != key.hash.hex():
            raise NoteError(_("the public key's hash does not match its name and key"))
        return key

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class SigningKey:
    """A log's private key with its name (the name is the checkpoints' origin line)."""

    name: str
    seed: bytes

    @classmethod
    def generate(cls, name: str) -> SigningKey:
        private = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls(_check_name(name), private)

    @property
    def verifier(self) -> VerifierKey:
        return VerifierKey(self.name, _raw_public(Ed25519PrivateKey.from_private_bytes(self.seed).public_key()))

    def text(self) -> str:
        """``PRIVATE+KEY+<name>+<hash>+<base64 of 0x01 and the seed>`` (keep it secret)."""
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.hash.hex()}+{encoded}"

    @classmethod
    def parse(cls, text: str) -> SigningKey:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError(_("a signing key is PRIVATE+KEY+<name>+<hash>+<key>"))
        raw = _b64decode(parts[4], N_("the signing key"))
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError(_("the signing key is not an Ed25519 key"))
        key = cls(_check_name(parts[2]), raw[1:])
        if parts[3] != key.verifier.hash.hex():
            raise NoteError(_("the signing key's hash does not match its name and key"))
        return key

    def sign(self, text: str) -> str:
        """The signed note of ``text`` (which must end in a newline and hold no blank line)."""
        if not text.endswith("\n") or "\n\n" in text:
            raise NoteError(_("a note's text ends in a newline and has no blank line"))
        signature = Ed25519PrivateKey.from_private_bytes(self.seed).sign(text.encode())
        return f"{text}\n{DASH}{self.name} {base64.b64encode(self.verifier.hash + signature).decode()}\n"


def open_note(note: str, key: VerifierKey) -> str:
    """The text of ``note`` when ``key`` signed it; :class:`NoteError` otherwise."""
    if len(note.encode()) > MAX_NOTE_BYTES:
        raise NoteError(_("the note is longer than {limit} bytes", limit=MAX_NOTE_BYTES))
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise NoteError(_("the note holds a control character"))
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise NoteError(_("the note has no signature lines after a blank line"))
    text, lines = note[: cut + 1], note[cut + 2 :].splitlines()
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(_("the note has more than {limit} signature lines", limit=MAX_SIGNATURES))
    for line in lines:
        name, signature = _signature_line(line)
        if name == key.name and signature[:4] == key.hash:
            if key.verify(signature[4:], text.encode()):
                return text
            raise SignatureError(_("the signature by {name} does not match the note: it was altered or forged", name=key.name))
    raise SignatureError(_("the note is not signed by the key {key}", key=f"{key.name}+{key.hash.hex()}"))


def _signature_line(line: str) -> tuple[str, bytes]:
    if not line.startswith(DASH) or line.count(" ") != 2:
        raise NoteError(_("a signature line is an em dash, the key name and the signature"))
    name, encoded = line[len(DASH) :].split(" ")
    signature = _b64decode(encoded, N_("a signature"))
    if len(signature) < 5:
        raise NoteError(_("a signature is too short"))
    return name, signature


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: which log (origin), how many leaves, their root hash, and extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
            raise NoteError(_("a checkpoint is an origin line, a tree size line, a root hash line, then extension lines"))
        origin, size, encoded = lines[:3]
        if not _SIZE.fullmatch(size):
            raise NoteError(_("the tree size {size!r} is not a decimal number", size=size))
        root = _b64decode(encoded, N_("the root hash"))
        if len(root) != HASH_SIZE:
            raise NoteError(_("the root hash is not 32 bytes"))
        return cls(origin, int(size), root, tuple(lines[3:-1]))

    @property
    def time(self) -> str | None:
        """The ``time`` extension line's value (when the log signed it), if present."""
        return next((line[5:] for line in self.extensions if line.startswith("time ")), None)


def sign_checkpoint(key: SigningKey, size: int, root: bytes, time: str) -> str:
    """The signed note of the checkpoint of ``size`` leaves and ``root``, its origin the key's name."""
    return key.sign(Checkpoint(key.name, size, root, (f"time {time}",)).text())


def open_checkpoint(note: str, key: VerifierKey) -> Checkpoint:
    """The checkpoint in ``note`` when ``key`` signed it and its origin is the key's name."""
    checkpoint = Checkpoint.parse(open_note(note, key))
    if checkpoint.origin != key.name:
        raise SignatureError(_("the checkpoint is for the log {origin!r}, not {name!r}", origin=checkpoint.origin, name=key.name))
    return checkpoint


def read_unverified(note: str) -> Checkpoint:
    """The checkpoint in a note without checking any signature (for a log reading its own stored notes)."""
    cut = note.rfind("\n\n")
    if cut < 0:
        raise NoteError(_("the note has no signature lines after a blank line"))
    return Checkpoint.parse(note[: cut + 1])
