"""``log``: the service's screening log as a transparency log (keys, checkpoints, proofs, verification, export).

The commands that read the service's database (checkpoint, prove,
consistency, verify, export) run beside the service; ``check-consistency`` and
``check-receipt`` need only files, for a witness or a client that does not
trust the server. Exit codes: 0 the log (or proof) holds, 1 it does not, 2 an
input cannot be used.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from ..locale import _
from ..private_files import private_output
from .common import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK
from .serve import db_option, log_key_option, log_key_path, settings_db

if TYPE_CHECKING:
    from ..services.screening_log import LogEntry, Verification
    from ..storage import Database
    from ..transparency.checkpoints import Checkpoint, SigningKey, VerifierKey

MAX_SMALL_FILE = 64 * 1024
"""A checkpoint, public key, proof or receipt file is read up to this size."""

MAX_ENTRY_BYTES = 64 * 1024 * 1024
"""One line of an archive (an entry holds a dossier of up to 4 MiB and its report) is read up to this size."""

existing_file = click.Path(path_type=Path, dir_okay=False, exists=True)


def _fail(message: str, code: int = EXIT_INPUT) -> None:
    click.echo(message, err=True)
    raise SystemExit(code)


def _database(db: str | None) -> Database:
    from ..storage import Database

    location = settings_db(db)
    if isinstance(location, Path) and not location.exists():
        _fail(_("error: {path}: no such database", path=location))
    return Database(location)


def _signing_key(db: str | None, log_key: Path | None) -> SigningKey:
    from ..transparency.keyfile import KeyFileError, load

    try:
        return load(log_key_path(db, log_key))
    except KeyFileError as exc:
        _fail(_("error: {reason}", reason=exc))
        raise


def _small_text(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SMALL_FILE + 1)
        if len(data) > MAX_SMALL_FILE:
            _fail(_("error: {path}: larger than {limit} bytes", path=path, limit=MAX_SMALL_FILE))
        return data.decode()
    except (OSError, UnicodeDecodeError) as exc:
        _fail(_("error: {path}: cannot be read: {reason}", path=path, reason=exc))
        raise


def _verifier(path: Path) -> VerifierKey:
    from ..transparency.checkpoints import NoteError, VerifierKey

    try:
        return VerifierKey.parse(_small_text(path))
    except NoteError as exc:
        _fail(_("error: {path}: not a public key of the log: {reason}", path=path, reason=exc))
        raise


def _kept_checkpoint(path: Path, key: VerifierKey) -> Checkpoint:
    """A checkpoint file checked against the key: exit 1 if the key did not sign it, 2 if it is no checkpoint."""
    from ..transparency.checkpoints import NoteError, SignatureError, open_checkpoint

    try:
        return open_checkpoint(_small_text(path), key)
    except SignatureError as exc:
        _fail(_("BROKEN: {path} is not a checkpoint signed by the log's key: {reason}", path=path, reason=exc), EXIT_FINDINGS)
        raise
    except NoteError as exc:
        _fail(_("error: {path}: not a checkpoint: {reason}", path=path, reason=exc))
        raise


def _json_file(path: Path) -> dict[str, Any]:
    try:
        value = orjson.loads(_small_text(path))
    except orjson.JSONDecodeError as exc:
        _fail(_("error: {path}: not JSON: {reason}", path=path, reason=exc))
        raise
    if not isinstance(value, dict):
        _fail(_("error: {path}: expected a JSON object", path=path))
    record: dict[str, Any] = value
    return record


def _hashes(value: Any, path: Path, pointer: str) -> list[bytes]:
    if not isinstance(value, list) or len(value) > 64 or not all(isinstance(h, str) and len(h) == 64 for h in value):
        _fail(_("error: {path} at {pointer}: expected a list of at most 64 SHA-256 hashes in hex", path=path, pointer=pointer))
    try:
        return [bytes.fromhex(h) for h in value]
    except ValueError:
        _fail(_("error: {path} at {pointer}: expected a list of at most 64 SHA-256 hashes in hex", path=path, pointer=pointer))
        raise


def _int(record: dict[str, Any], name: str, path: Path) -> int:
    value = record.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        _fail(_("error: {path} at /{name}: expected a whole number", path=path, name=name))
    assert isinstance(value, int)
    return value


def _emit(value: dict[str, Any]) -> None:
    sys.stdout.buffer.write(orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n")


@click.group()
def log() -> None:
    """The screening log of the service: keys, signed checkpoints, proofs, verification and export."""


@log.command("keygen")
@click.option("--name", default=None, help="The key's name, also the checkpoints' origin line (no spaces or '+'); default dossier-rules/<host name>.")
@log_key_option
@db_option
def log_keygen(name: str | None, log_key: Path | None, db: str | None) -> None:
    """Create the log's Ed25519 signing key (mode 0600; never over an existing file) and print its public key."""
    from ..transparency.checkpoints import NoteError
    from ..transparency.keyfile import KeyFileError, create, default_name

    path = log_key_path(db, log_key)
    try:
        key = create(path, name or default_name())
    except (KeyFileError, NoteError) as exc:
        _fail(_("error: {reason}", reason=exc))
        raise
    click.echo(_("created {path}; its public key, for witnesses:", path=path), err=True)
    click.echo(key.verifier.text())


@log.command("public-key")
@log_key_option
@db_option
def log_public_key(log_key: Path | None, db: str | None) -> None:
    """Print the log's public key (<name>+<hash>+<key>), for witnesses and clients to keep."""
    click.echo(_signing_key(db, log_key).verifier.text())


@log.command("checkpoint")
@log_key_option
@db_option
def log_checkpoint(log_key: Path | None, db: str | None) -> None:
    """Print the newest signed checkpoint (signing one if the log grew): the text a witness keeps."""

    sys.stdout.write(_signed_checkpoint(db, log_key))


def _signed_checkpoint(db: str | None, log_key: Path | None) -> str:
    """The newest checkpoint, signed now if the log grew; exit 2 when the log cannot be signed (it lost entries)."""
    from ..services import screening_log

    key = _signing_key(db, log_key)
    try:
        with _database(db).write() as conn:
            return screening_log.checkpoint(conn, key)
    except LookupError as exc:
        _fail(_("error: {reason}", reason=exc))
        raise


@log.command("prove")
@click.option("--index", type=click.IntRange(min=0), required=True, help="The leaf index (entry N is leaf N - 1).")
@click.option("--tree-size", type=click.IntRange(min=1), default=None, help="Prove against this tree size instead of the newest checkpoint.")
@log_key_option
@db_option
def log_prove(index: int, tree_size: int | None, log_key: Path | None, db: str | None) -> None:
    """Print the receipt of one entry as JSON: leaf index, leaf hash, inclusion proof, signed checkpoint."""
    from ..services import screening_log

    database = _database(db)
    try:
        if tree_size is None:
            key = _signing_key(db, log_key)
            with database.write() as conn:
                _emit(screening_log.receipt(conn, index + 1, key).to_json())
            return
        if index >= tree_size:
            _fail(_("error: leaf {index} is not in a tree of {size} entries", index=index, size=tree_size))
        with database.read() as conn:
            proof = screening_log.inclusion(conn, index, tree_size)
            leaf = screening_log.leaf(conn, index)
    except LookupError as exc:
        _fail(_("error: {reason}", reason=exc))
        raise
    answer = screening_log.Receipt(index + 1, index, leaf, "", tree_size, proof).to_json()
    del answer["checkpoint"]
    _emit(answer)


@log.command("consistency")
@click.option("--from", "first", type=click.IntRange(min=0), required=True, help="The smaller tree size (the checkpoint a witness kept).")
@click.option("--to", "second", type=click.IntRange(min=0), default=None, help="The larger tree size; default: the newest checkpoint, printed with the proof.")
@log_key_option
@db_option
def log_consistency(first: int, second: int | None, log_key: Path | None, db: str | None) -> None:
    """Print as JSON the proof that the tree of --from entries is a prefix of the tree of --to entries."""
    from ..services import screening_log
    from ..transparency.checkpoints import read_unverified

    database = _database(db)
    note = None
    if second is None:
        note = _signed_checkpoint(db, log_key)
        second = read_unverified(note).size
    if first > second:
        _fail(_("error: no consistency proof from {first} to {second} entries: --from must not be larger", first=first, second=second))
    try:
        with database.read() as conn:
            proof = screening_log.consistency(conn, first, second)
    except LookupError as exc:
        _fail(_("error: {reason}", reason=exc))
        raise
    _emit({"first": first, "second": second, "proof": [p.hex() for p in proof], **({"checkpoint": note} if note else {})})


def _watching(log: Iterable[LogEntry], wanted: str | None, seen: list[bool]) -> Iterator[LogEntry]:
    """The entries unchanged, noting whether one has the hash ``wanted`` (``--expect-head``)."""
    for item in log:
        if item.hash == wanted:
            seen[0] = True
        yield item


def _verify_file(file: Path, witness: Checkpoint | None, expect_head: str | None, seen: list[bool]) -> Verification:
    from ..services import screening_log

    checks = [(screening_log.WITNESS, witness)] if witness is not None else []
    return screening_log.verify_chain(_watching(_exported(file), expect_head, seen), None, checks)


@log.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=existing_file,
    default=None,
    help="A checkpoint a witness kept: fail unless the log still holds exactly what it covers.",
)
@click.option("--public-key", "public_key", type=existing_file, default=None, help="The log's public key: checkpoints must be signed by it.")
@click.option("--expect-head", default=None, help="The head hash printed by an earlier verify: fail unless the log still contains it at the same entry.")
@click.option("--file", "file", type=existing_file, default=None, help="Verify an exported log (JSON Lines, from entry 1) instead of the database.")
@db_option
def log_verify(checkpoint_file: Path | None, public_key: Path | None, expect_head: str | None, file: Path | None, db: str | None) -> None:
    """Check every entry, the tree, and the checkpoints; name the first entry that was edited, removed or reordered.

    With --checkpoint and --public-key, a rewrite, removal, reordering or
    truncation of anything the witness's checkpoint covers is found even if
    the whole database was rewritten consistently. Exit 0 when the log holds,
    1 when it does not, 2 when an input cannot be used.
    """
    from ..services import screening_log

    if checkpoint_file is not None and public_key is None:
        _fail(_("error: --checkpoint needs --public-key: a checkpoint is only worth the key that signed it"))
    if file is not None and db is not None:
        _fail(_("error: give --file or --db, not both"))
    if file is not None and public_key is not None and checkpoint_file is None:
        _fail(_("error: with --file, --public-key checks a --checkpoint: give one"))
    key = _verifier(public_key) if public_key is not None else None
    witness = _kept_checkpoint(checkpoint_file, key) if checkpoint_file is not None and key is not None else None
    seen = [False]
    if file is not None:
        result = _verify_file(file, witness, expect_head, seen)
    else:
        with _database(db).read() as conn:
            result = screening_log.verify(conn, witness, key)
            seen[0] = bool(expect_head) and result.ok and screening_log.contains_hash(conn, str(expect_head))
    if not result.ok and result.first_bad is None:
        _fail(_("BROKEN: {problem}", problem=result.problem), EXIT_FINDINGS)
    if not result.ok:
        where = _("BROKEN at entry {seq}: {problem}", seq=result.first_bad, problem=result.problem)
        _fail(where + "\n" + _("{count} entries verified before it", count=result.entries), EXIT_FINDINGS)
    if expect_head and not seen[0]:
        _fail(_("BROKEN: no entry has the expected head hash {hash}: the log was rewritten or cut short", hash=expect_head), EXIT_FINDINGS)
    click.echo(_("ok: {count} entries, root {root}, head {head}", count=result.entries, root=result.root, head=result.head))
    if witness is not None:
        click.echo(_("the witness's checkpoint of {size} entries matches the log", size=witness.size))
    raise SystemExit(EXIT_OK)


def _exported(path: Path) -> Iterator[LogEntry]:
    from ..services import screening_log

    with path.open("rb") as handle:
        for number, line in enumerate(iter(lambda: handle.readline(MAX_ENTRY_BYTES + 1), b""), 1):
            if len(line) > MAX_ENTRY_BYTES:
                _fail(_("error: {path}:{line}: longer than {limit} bytes", path=path, line=number, limit=MAX_ENTRY_BYTES))
            try:
                yield screening_log.LogEntry.from_json(orjson.loads(line))
            except (orjson.JSONDecodeError, TypeError) as exc:
                _fail(_("error: {path}:{line}: not a log entry ({reason})", path=path, line=number, reason=exc))


@log.command("check-consistency")
@click.option("--old", "old_file", type=existing_file, required=True, help="The checkpoint the witness kept before.")
@click.option("--new", "new_file", type=existing_file, default=None, help="The newer checkpoint; default: the one in the proof file.")
@click.option("--proof", "proof_file", type=existing_file, required=True, help="The output of log consistency, or of GET /api/v1/log/proofs/consistency.")
@click.option("--public-key", "public_key", type=existing_file, required=True, help="The log's public key.")
def log_check_consistency(old_file: Path, new_file: Path | None, proof_file: Path, public_key: Path) -> None:
    """For a witness, offline: the newer checkpoint extends the kept one (nothing it covered was changed).

    Exit 0 when it does, 1 when it does not or a checkpoint is not signed by the key, 2 when a file cannot be used.
    """
    from ..transparency import merkle
    from ..transparency.checkpoints import NoteError, SignatureError, open_checkpoint

    key = _verifier(public_key)
    old = _kept_checkpoint(old_file, key)
    record = _json_file(proof_file)
    if new_file is not None:
        new = _kept_checkpoint(new_file, key)
    else:
        note = record.get("checkpoint")
        if not isinstance(note, str):
            _fail(_("error: {path} at /checkpoint: no checkpoint; give --new", path=proof_file))
        try:
            new = open_checkpoint(str(note), key)
        except SignatureError as exc:
            _fail(_("BROKEN: {path} is not a checkpoint signed by the log's key: {reason}", path=proof_file, reason=exc), EXIT_FINDINGS)
            raise
        except NoteError as exc:
            _fail(_("error: {path}: not a checkpoint: {reason}", path=proof_file, reason=exc))
            raise
    first, second = _int(record, "first", proof_file), _int(record, "second", proof_file)
    if (first, second) != (old.size, new.size):
        _fail(
            _(
                "error: {path} proves {first} to {second} entries, the checkpoints are of {old} and {new}",
                path=proof_file,
                first=first,
                second=second,
                old=old.size,
                new=new.size,
            )
        )
    if not merkle.verify_consistency(old.size, new.size, old.root, new.root, _hashes(record.get("proof"), proof_file, "/proof")):
        _fail(_("BROKEN: the checkpoint of {new} entries does not extend the one of {old}: the log was rewritten", new=new.size, old=old.size), EXIT_FINDINGS)
    click.echo(_("consistent: the checkpoint of {new} entries extends the one of {old}", new=new.size, old=old.size))


@log.command("check-receipt")
@click.option(
    "--receipt", "receipt_file", type=existing_file, required=True, help="A receipt: the output of log prove, or of GET /api/v1/log/proofs/inclusion."
)
@click.option("--public-key", "public_key", type=existing_file, required=True, help="The log's public key.")
@click.option(
    "--entry", "entry_file", type=existing_file, default=None, help="The entry itself (one line of log export): check it is the leaf the receipt names."
)
def log_check_receipt(receipt_file: Path, public_key: Path, entry_file: Path | None) -> None:
    """For a client, offline: the receipt's entry is in the log the signed checkpoint describes.

    Exit 0 when it is, 1 when it is not or the checkpoint is not signed by the key, 2 when a file cannot be used.
    """
    from ..transparency import merkle
    from ..transparency.checkpoints import NoteError, SignatureError, open_checkpoint

    key = _verifier(public_key)
    record = _json_file(receipt_file)
    try:
        checkpoint = open_checkpoint(str(record.get("checkpoint", "")), key)
    except SignatureError as exc:
        _fail(_("BROKEN: {path} is not a checkpoint signed by the log's key: {reason}", path=receipt_file, reason=exc), EXIT_FINDINGS)
        raise
    except NoteError as exc:
        _fail(_("error: {path}: not a checkpoint: {reason}", path=receipt_file, reason=exc))
        raise
    index = _int(record, "leaf_index", receipt_file)
    leaf = _hashes([record.get("leaf_hash")], receipt_file, "/leaf_hash")[0]
    if entry_file is not None:
        item = next(_exported(entry_file), None)
        if item is None or item.leaf_index != index or item.leaf_hash() != leaf:
            _fail(_("BROKEN: the entry in {path} is not the leaf the receipt names", path=entry_file), EXIT_FINDINGS)
    proof = _hashes(record.get("inclusion_proof"), receipt_file, "/inclusion_proof")
    if not merkle.verify_inclusion(index, checkpoint.size, leaf, proof, checkpoint.root):
        _fail(_("BROKEN: leaf {index} is not in the checkpoint of {size} entries", index=index, size=checkpoint.size), EXIT_FINDINGS)
    click.echo(_("included: entry {seq} is in the checkpoint of {size} entries", seq=index + 1, size=checkpoint.size))


@log.command("export")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write here instead of standard output.")
@click.option("--after", type=click.IntRange(min=0), default=0, show_default=True, help="Export only entries after this position (for incremental archives).")
@db_option
def log_export(output: Path | None, after: int, db: str | None) -> None:
    """Write the log as JSON Lines, one entry per line, with its hashes (verify it with log verify --file)."""
    from ..services import screening_log

    with _database(db).read() as conn, private_output(output) if output else nullcontext(sys.stdout.buffer) as stream:
        count = 0
        for item in screening_log.entries(conn, after):
            stream.write(orjson.dumps(item.to_json()) + b"\n")
            count += 1
    if output:
        click.echo(_("wrote {count} entries to {path}", count=count, path=output), err=True)
