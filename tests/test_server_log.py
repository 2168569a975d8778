"""The screening log as a transparency log: receipts, proofs, and every way of tampering with it, caught.

Each tampering test edits the SQLite file (or an exported archive) directly,
as an administrator with write access to the file could, and then runs
``dossier-rules log verify`` the way a witness would: with the checkpoint it
kept and the log's public key. The strongest attacker also holds the signing
key and rebuilds the tree and re-signs checkpoints; only the witness's
checkpoint stands in the way, and it is enough.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from dossier_rules.cli import main
from dossier_rules.services import screening_log
from dossier_rules.storage import Database
from dossier_rules.transparency import keyfile, merkle
from dossier_rules.transparency.checkpoints import SigningKey, open_checkpoint

from .server_support import ROOT, Service, make_service

SAMPLES = sorted((ROOT / "samples").glob("*.json"))[:6]


def screen(service: Service, path: Path) -> dict[str, Any]:
    response = service.client.post("/api/v1/screenings", content=path.read_bytes(), headers={**service.as_("screener"), "content-type": "application/json"})
    assert response.status_code == 201, response.status_code
    result: dict[str, Any] = response.json()
    return result


def cli(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


class Log:
    """A service with six screenings, and what a witness kept of it: its checkpoint and the public key."""

    def __init__(self, tmp_path: Path) -> None:
        self.service = make_service(tmp_path)
        for path in SAMPLES:
            screen(self.service, path)
        self.db = tmp_path / "service.sqlite"
        self.key_file = tmp_path / "service.log-key"
        self.checkpoint = tmp_path / "witness.checkpoint"
        self.public_key = tmp_path / "log.pub"
        self.checkpoint.write_text(self.service.client.get("/api/v1/log/checkpoint").text)
        self.public_key.write_text(self.service.client.get("/api/v1/log/public-key").text)
        self.archive = tmp_path / "archive.jsonl"
        assert cli("log", "export", "--db", self.db, "--output", self.archive)[0] == 0

    def verify(self, *extra: str | Path) -> tuple[int, str]:
        return cli("log", "verify", "--db", self.db, *extra)

    def witness(self, *extra: str | Path) -> tuple[int, str]:
        return cli("log", "verify", "--checkpoint", self.checkpoint, "--public-key", self.public_key, *extra)

    def sql(self, *statements: str) -> None:
        conn = sqlite3.connect(self.db)
        for statement in statements:
            conn.execute(statement)
        conn.commit()
        conn.close()

    def entries(self) -> list[dict[str, Any]]:
        conn = sqlite3.connect(self.db)
        conn.row_factory = sqlite3.Row
        rows = [dict(row) for row in conn.execute("SELECT * FROM log ORDER BY seq")]
        conn.close()
        return rows

    def rewrite(self, rows: list[dict[str, Any]], resign: bool = False) -> None:
        """Replace the whole log by ``rows``, renumbered and re-chained, with a matching head (a careful forger).

        ``resign``: also rebuild the tree and sign fresh checkpoints with the real key (a forger holding the key).
        """
        conn = sqlite3.connect(self.db)
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("DELETE FROM log")
        prev = screening_log.GENESIS
        for seq, row in enumerate(rows, 1):
            digest = screening_log.entry_hash(seq, row["kind"], row["at"], row["actor"], prev, row["body"])
            conn.execute("INSERT INTO log VALUES (?, ?, ?, ?, ?, ?, ?)", (seq, row["kind"], row["at"], row["actor"], row["body"], prev, digest))
            prev = digest
        conn.execute("UPDATE log_head SET seq = ?, hash = ?", (len(rows), prev))
        if resign:
            conn.execute("DELETE FROM log_nodes")
            conn.execute("DELETE FROM log_checkpoints")
        conn.commit()
        conn.close()
        if resign:
            with Database(self.db).write() as db:
                screening_log.checkpoint(db, keyfile.load(self.key_file))


@pytest.fixture()
def log(tmp_path: Path) -> Log:
    return Log(tmp_path)


def edited(rows: list[dict[str, Any]], index: int) -> list[dict[str, Any]]:
    rows[index] = {**rows[index], "body": rows[index]["body"].replace('"blocked"', '"clear"').replace('"warn"', '"info"')}
    return rows


# --------------------------------------------------------------------------- the database


def test_an_untouched_log_matches_the_witness_checkpoint(log: Log) -> None:
    code, output = log.witness("--db", log.db)
    assert code == 0 and "6 entries" in output and "checkpoint of 6 entries matches" in output
    assert log.verify("--public-key", log.public_key)[0] == 0


def test_a_rewrite_with_chain_and_head_recomputed_is_caught(log: Log) -> None:
    """The attack the hash chain alone missed: entry 3 rewritten, every later hash and the head recomputed."""
    log.rewrite(edited(log.entries(), 2))
    code, output = log.verify()
    assert code == 1 and "do not hash to the root of the newest checkpoint in the database" in output
    code, output = log.witness("--db", log.db)
    assert code == 1 and "do not hash to the root" in output


def test_a_rewrite_by_someone_holding_the_key_is_caught_by_the_witness(log: Log) -> None:
    log.rewrite(edited(log.entries(), 2), resign=True)
    assert log.verify("--public-key", log.public_key)[0] == 0  # the database agrees with itself: only a witness can tell
    code, output = log.witness("--db", log.db)
    assert code == 1 and "the first 6 entries do not hash to the root of the witness's checkpoint" in output


def test_a_deletion_renumbered_and_re_signed_is_caught(log: Log) -> None:
    rows = log.entries()
    del rows[3]
    log.rewrite(rows, resign=True)
    code, output = log.witness("--db", log.db)
    assert code == 1 and "the log has 5 entries but the witness's checkpoint covers 6" in output


def test_a_deletion_in_place_is_named(log: Log) -> None:
    log.sql("DELETE FROM log WHERE seq = 4")
    code, output = log.witness("--db", log.db)
    assert code == 1 and "BROKEN at entry 4: entry 4 is missing" in output


def test_a_reordering_re_chained_and_re_signed_is_caught(log: Log) -> None:
    rows = log.entries()
    rows[1], rows[4] = rows[4], rows[1]
    log.rewrite(rows, resign=True)
    code, output = log.witness("--db", log.db)
    assert code == 1 and "do not hash to the root of the witness's checkpoint" in output


def test_a_truncation_with_the_head_moved_back_is_caught(log: Log) -> None:
    log.rewrite(log.entries()[:4], resign=True)
    code, output = log.witness("--db", log.db)
    assert code == 1 and "the log has 4 entries but the witness's checkpoint covers 6: entries 5 to 6 were removed" in output
    log.sql("DELETE FROM log_checkpoints")
    log.sql("INSERT INTO log_checkpoints (size, note) VALUES (6, '" + log.checkpoint.read_text() + "')")
    code, output = log.verify()
    assert code == 1 and "covers 6" in output


def test_a_checkpoint_not_signed_by_the_key_is_refused(log: Log, tmp_path: Path) -> None:
    kept = log.checkpoint.read_text()
    lines = kept.split("\n")
    log.checkpoint.write_text("\n".join([lines[0], "5", *lines[2:]]))
    code, output = log.witness("--db", log.db)
    assert code == 1 and "not a checkpoint signed by the log's key" in output and "altered or forged" in output
    stranger = SigningKey.generate(lines[0])
    log.checkpoint.write_text(stranger.sign("\n".join(lines[:4]) + "\n"))
    code, output = log.witness("--db", log.db)
    assert code == 1 and "not signed by the key" in output
    log.checkpoint.write_text(kept)
    other_key = tmp_path / "other.pub"
    other_key.write_text(SigningKey.generate("someone/else").verifier.text())
    code, output = cli("log", "verify", "--db", log.db, "--checkpoint", log.checkpoint, "--public-key", other_key)
    assert code == 1 and "not a checkpoint signed by the log's key" in output


def test_a_forged_checkpoint_stored_in_the_database_is_refused_with_the_key(log: Log) -> None:
    lines = log.checkpoint.read_text().split("\n")
    forged = SigningKey.generate(lines[0]).sign("\n".join([lines[0], "6", lines[2], "time 2030-01-01T00:00:00+00:00"]) + "\n")
    log.sql("DELETE FROM log_checkpoints", "INSERT INTO log_checkpoints (size, note) VALUES (6, '" + forged + "')")
    assert log.verify()[0] == 0  # without the key the stored note's signature cannot be judged; its root still matches
    code, output = log.verify("--public-key", log.public_key)
    assert code == 1 and "the newest checkpoint in the database is not the log's" in output


def test_options_are_never_ignored(log: Log) -> None:
    code, output = log.verify("--checkpoint", log.checkpoint)
    assert code == 2 and "--checkpoint needs --public-key" in output
    code, output = cli("log", "verify", "--file", log.archive, "--public-key", log.public_key)
    assert code == 2 and "give one" in output
    code, output = cli("log", "verify", "--file", log.archive, "--db", log.db)
    assert code == 2 and "not both" in output
    head = log.verify()[1].split("head ")[1].split()[0]
    assert log.verify("--expect-head", head)[0] == 0
    log.rewrite(log.entries()[:5], resign=True)
    code, output = log.verify("--expect-head", head)
    assert code == 1 and "no entry has the expected head hash" in output


# --------------------------------------------------------------------------- archives


def archive_rows(log: Log) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.archive.read_text().splitlines()]


def write_archive(log: Log, rows: list[dict[str, Any]], rechain: bool = False) -> None:
    if rechain:
        prev = screening_log.GENESIS
        for seq, row in enumerate(rows, 1):
            text = screening_log.canonical(row["body"])
            row.update(seq=seq, prev_hash=prev, hash=screening_log.entry_hash(seq, row["kind"], row["at"], row["actor"], prev, text))
            prev = row["hash"]
    log.archive.write_text("".join(json.dumps(row) + "\n" for row in rows))


def test_an_untouched_archive_matches_the_witness_checkpoint(log: Log) -> None:
    code, output = log.witness("--file", log.archive)
    assert code == 0 and "checkpoint of 6 entries matches" in output


def test_an_archive_rewritten_and_re_chained_is_caught(log: Log) -> None:
    rows = archive_rows(log)
    rows[2]["body"]["report"]["findings"] = []
    write_archive(log, rows, rechain=True)
    assert cli("log", "verify", "--file", log.archive)[0] == 0  # a re-chained archive agrees with itself
    code, output = log.witness("--file", log.archive)
    assert code == 1 and "do not hash to the root of the witness's checkpoint" in output


def test_an_archive_with_a_line_deleted_is_caught(log: Log) -> None:
    rows = archive_rows(log)
    write_archive(log, rows[:2] + rows[3:])
    code, output = log.witness("--file", log.archive)
    assert code == 1 and "entry 3 is missing" in output
    write_archive(log, rows[:2] + rows[3:], rechain=True)
    code, output = log.witness("--file", log.archive)
    assert code == 1 and "the log has 5 entries but the witness's checkpoint covers 6" in output


def test_an_archive_reordered_is_caught(log: Log) -> None:
    rows = archive_rows(log)
    rows[0], rows[1] = rows[1], rows[0]
    write_archive(log, rows)
    code, output = log.witness("--file", log.archive)
    assert code == 1 and "BROKEN at entry 1" in output
    write_archive(log, rows, rechain=True)
    code, output = log.witness("--file", log.archive)
    assert code == 1 and "do not hash to the root" in output


def test_a_truncated_archive_is_caught_by_the_checkpoint_and_by_the_expected_head(log: Log) -> None:
    head = log.verify()[1].split("head ")[1].split()[0]
    assert cli("log", "verify", "--file", log.archive, "--expect-head", head)[0] == 0
    write_archive(log, archive_rows(log)[:4])
    code, output = log.witness("--file", log.archive)
    assert code == 1 and "entries 5 to 6 were removed" in output
    code, output = cli("log", "verify", "--file", log.archive, "--expect-head", head)
    assert code == 1 and "no entry has the expected head hash" in output


# --------------------------------------------------------------------------- receipts and proofs


def test_a_receipt_proves_its_entry_offline(log: Log, tmp_path: Path) -> None:
    response = log.service.client.get("/api/v1/log/proofs/inclusion", params={"index": 2}, headers=log.service.as_("screener"))
    assert response.status_code == 200
    receipt = response.json()
    assert receipt["entry"] == 3 and receipt["tree_size"] == 6 and receipt["checkpoint"] == log.checkpoint.read_text()
    path, entry = tmp_path / "receipt.json", tmp_path / "entry.json"
    path.write_text(json.dumps(receipt))
    entry.write_text(log.archive.read_text().splitlines()[2] + "\n")
    code, output = cli("log", "check-receipt", "--receipt", path, "--public-key", log.public_key, "--entry", entry)
    assert code == 0 and "entry 3 is in the checkpoint of 6 entries" in output
    entry.write_text(log.archive.read_text().splitlines()[3] + "\n")
    code, output = cli("log", "check-receipt", "--receipt", path, "--public-key", log.public_key, "--entry", entry)
    assert code == 1 and "not the leaf the receipt names" in output
    path.write_text(json.dumps({**receipt, "leaf_index": 3}))
    code, output = cli("log", "check-receipt", "--receipt", path, "--public-key", log.public_key)
    assert code == 1 and "leaf 3 is not in the checkpoint" in output


def test_append_with_receipt_signs_one_checkpoint_that_includes_the_entry(log: Log) -> None:
    key = keyfile.load(log.key_file)
    with log.service.app.state.db.write() as conn:
        item, receipt = screening_log.append_with_receipt(conn, "notice_approved", "reviewer", {"notice_id": "N-1"}, key)
    checkpoint = open_checkpoint(receipt.checkpoint, key.verifier)
    assert (receipt.entry, receipt.leaf_index, checkpoint.size) == (7, 6, 7)
    assert receipt.leaf_hash == item.leaf_hash()
    assert merkle.verify_inclusion(6, 7, receipt.leaf_hash, receipt.inclusion_proof, checkpoint.root)


def test_a_witness_checks_that_the_next_checkpoint_extends_the_one_it_kept(log: Log, tmp_path: Path) -> None:
    for path in SAMPLES[:3]:
        screen(log.service, path)
    response = log.service.client.get("/api/v1/log/proofs/consistency", params={"first": 6})
    assert response.status_code == 200 and response.json()["second"] == 9
    proof = tmp_path / "proof.json"
    proof.write_text(response.text)
    code, output = cli("log", "check-consistency", "--old", log.checkpoint, "--proof", proof, "--public-key", log.public_key)
    assert code == 0 and "checkpoint of 9 entries extends the one of 6" in output
    answer = response.json()
    answer["proof"][0] = "00" * 32
    proof.write_text(json.dumps(answer))
    code, output = cli("log", "check-consistency", "--old", log.checkpoint, "--proof", proof, "--public-key", log.public_key)
    assert code == 1 and "does not extend" in output


def test_the_cli_gives_the_same_proofs_as_the_api(log: Log) -> None:
    code, output = cli("log", "checkpoint", "--db", log.db)
    assert code == 0 and output == log.checkpoint.read_text()
    code, output = cli("log", "prove", "--db", log.db, "--index", "5")
    api = log.service.client.get("/api/v1/log/proofs/inclusion", params={"index": 5}, headers=log.service.as_("reviewer")).json()
    assert code == 0 and json.loads(output) == api
    code, output = cli("log", "consistency", "--db", log.db, "--from", "2", "--to", "5")
    assert code == 0 and json.loads(output) == log.service.client.get("/api/v1/log/proofs/consistency", params={"first": 2, "second": 5}).json()
    assert cli("log", "prove", "--db", log.db, "--index", "6")[0] == 2
    assert cli("log", "consistency", "--db", log.db, "--from", "5", "--to", "2")[0] == 2


def test_proofs_outside_the_tree_are_refused_and_receipts_need_an_account(log: Log) -> None:
    client = log.service.client
    assert client.get("/api/v1/log/proofs/inclusion", params={"index": 0}).status_code == 401
    assert client.get("/api/v1/log/proofs/inclusion", params={"index": 6}, headers=log.service.as_("screener")).status_code == 404
    assert client.get("/api/v1/log/proofs/inclusion", params={"index": 0, "tree_size": 7}, headers=log.service.as_("screener")).status_code == 404
    assert client.get("/api/v1/log/proofs/consistency", params={"first": 7, "second": 6}).status_code == 404
    assert client.get("/api/v1/log/proofs/consistency", params={"first": 2, "second": 60}).status_code == 404
    assert client.get("/api/v1/log/checkpoint").headers["cache-control"] == "no-store"


def test_a_database_from_before_the_tree_catches_up(log: Log) -> None:
    log.sql("DELETE FROM log_nodes", "DELETE FROM log_checkpoints")
    code, output = cli("log", "checkpoint", "--db", log.db)
    assert code == 0
    assert output.split("\n")[:3] == log.checkpoint.read_text().split("\n")[:3]


# --------------------------------------------------------------------------- the key


def test_the_service_creates_its_key_0600_and_keygen_never_overwrites(log: Log, tmp_path: Path) -> None:
    assert stat.S_IMODE(log.key_file.stat().st_mode) == 0o600
    code, output = cli("log", "keygen", "--db", log.db)
    assert code == 2 and "never overwritten" in output
    fresh = tmp_path / "keys" / "fresh.log-key"
    code, output = cli("log", "keygen", "--log-key", fresh, "--name", "example.org/log")
    public = [line for line in output.splitlines() if line.startswith("example.org/log+")]
    assert code == 0 and len(public) == 1 and stat.S_IMODE(fresh.stat().st_mode) == 0o600
    assert cli("log", "public-key", "--log-key", fresh)[1].strip() == public[0]


def test_a_key_others_can_read_is_refused(log: Log) -> None:
    log.key_file.chmod(0o644)
    code, output = cli("log", "checkpoint", "--db", log.db)
    assert code == 2 and "can be read by others" in output


def test_a_witness_reads_the_finding_in_japanese(log: Log) -> None:
    log.rewrite(log.entries()[:4], resign=True)
    code, output = cli("--lang", "ja", "log", "verify", "--db", log.db, "--checkpoint", log.checkpoint, "--public-key", log.public_key)
    assert code == 1 and "立会人が保管したチェックポイントは6件を対象としています" in output and "covers" not in output


def test_an_archive_is_written_0600_whatever_the_umask(log: Log) -> None:
    import os

    log.archive.unlink()
    old = os.umask(0)
    try:
        assert cli("log", "export", "--db", log.db, "--output", log.archive)[0] == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(log.archive.stat().st_mode) == 0o600 and len(log.archive.read_text().splitlines()) == 6
    assert [p.name for p in log.archive.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_the_service_refuses_to_sign_a_log_shorter_than_its_newest_checkpoint(log: Log) -> None:
    rows = log.entries()[:4]
    log.sql("DELETE FROM screenings", "DELETE FROM log WHERE seq > 4", "DELETE FROM log_nodes", f"UPDATE log_head SET seq = 4, hash = '{rows[-1]['hash']}'")
    code, output = cli("log", "checkpoint", "--db", log.db)
    assert code == 2 and "fewer than its newest checkpoint covers (6)" in output
    refused = log.service.client.get("/api/v1/log/checkpoint")
    assert refused.status_code == 409 and "fewer than its newest checkpoint" in refused.json()["errors"][0]["message"]


# --------------------------------------------------------------------------- any tampering, as a property


def chained(bodies: list[str]) -> list[screening_log.LogEntry]:
    """Entries with every hash right (what a forger who recomputes everything produces)."""
    entries, prev = [], screening_log.GENESIS
    for seq, body in enumerate(bodies, 1):
        digest = screening_log.entry_hash(seq, "screening", "2026-01-01T00:00:00+00:00", "a", prev, body)
        entries.append(screening_log.LogEntry(seq, "screening", "2026-01-01T00:00:00+00:00", "a", body, prev, digest))
        prev = digest
    return entries


def witnessed(entries: list[screening_log.LogEntry], size: int) -> list[tuple[str, Any]]:
    from dossier_rules.transparency.checkpoints import Checkpoint

    tree = merkle.MemoryTree([e.leaf_hash() for e in entries[:size]])
    return [(screening_log.WITNESS, Checkpoint("test/log", size, tree.root()))]


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_any_rewrite_removal_reordering_or_truncation_of_what_a_checkpoint_covers_fails(data: st.DataObject) -> None:
    bodies = data.draw(st.lists(st.text(min_size=1, max_size=8).map(lambda t: json.dumps({"t": t})), min_size=1, max_size=40, unique=True))
    size = data.draw(st.integers(1, len(bodies)))
    checkpoint = witnessed(chained(bodies), size)
    assert screening_log.verify_chain(chained(bodies), None, checkpoint).ok
    i = data.draw(st.integers(0, size - 1))
    forged = list(bodies)
    how = data.draw(st.sampled_from(["rewrite", "remove", "reorder", "truncate"]))
    if how == "rewrite":
        forged[i] = json.dumps({"t": "forged", "was": forged[i]})
    elif how == "remove":
        del forged[i]
    elif how == "reorder":
        j = data.draw(st.integers(0, size - 1).filter(lambda j: j != i)) if size > 1 else i
        forged[i], forged[j] = forged[j], forged[i]
    else:
        forged = forged[:i]
    if forged == bodies:
        return  # a one-entry checkpoint cannot be reordered
    result = screening_log.verify_chain(chained(forged), None, checkpoint)
    assert not result.ok and "witness" in str(result.problem)


def test_a_malformed_archive_line_is_named_not_a_traceback(log: Log) -> None:
    rows = archive_rows(log)
    rows[1]["seq"] = "two"
    write_archive(log, rows)
    code, output = cli("log", "verify", "--file", log.archive)
    assert code == 2 and "archive.jsonl:2: not a log entry (/seq: expected a whole number from 1)" in output
    del rows[1]["hash"]
    write_archive(log, rows)
    code, output = cli("log", "verify", "--file", log.archive)
    assert code == 2 and "archive.jsonl:2: not a log entry (/hash is missing)" in output


# --------------------------------------------------------------------------- receipts with every answer


def test_screenings_approvals_and_exports_answer_with_a_receipt_a_client_checks_offline(log: Log, tmp_path: Path) -> None:
    service = log.service
    screened = screen(service, SAMPLES[0])
    receipt = screened["receipt"]
    sid = screened["screening_id"]
    assert receipt["entry"] == int(sid.removeprefix("S-")) and receipt["tree_size"] >= receipt["entry"]
    kept = tmp_path / "receipt.json"
    kept.write_text(json.dumps(receipt))
    code, output = cli("log", "check-receipt", "--receipt", kept, "--public-key", log.public_key)
    assert code == 0, output
    again = service.client.post(f"/api/v1/screenings/{sid}/rescreen", json={}, headers=service.as_("screener")).json()
    assert again["receipt"]["entry"] == int(again["screening_id"].removeprefix("S-"))
    built = service.client.post("/api/v1/notices/build", json={"screening_ids": [s["screening_id"] for s in [screened]]}, headers=service.as_("reviewer"))
    created = built.json()["created"] or [n["id"] for n in service.client.get("/api/v1/notices", headers=service.as_("reviewer")).json()]
    approved = service.client.post(f"/api/v1/notices/{created[0]}/approve", headers=service.as_("reviewer"))
    exported = service.client.post(f"/api/v1/notices/{created[0]}/export", headers=service.as_("reviewer"))
    for answer, kind in ((approved, "notice_approved"), (exported, "notice_exported")):
        assert answer.status_code == 200, answer.text
        value = answer.headers["log-receipt"]
        decoded = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        kept.write_text(json.dumps(decoded))
        assert cli("log", "check-receipt", "--receipt", kept, "--public-key", log.public_key)[0] == 0
        with service.app.state.db.read() as conn:
            entry = screening_log.entry(conn, decoded["entry"])
        assert entry is not None and entry.kind == kind and json.loads(entry.body)["notice_id"] == created[0]
