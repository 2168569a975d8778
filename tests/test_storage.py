"""The data-access module on SQLite and PostgreSQL: schema and migrations, the log under many writers, limits, credentials."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import select

from dossier_rules.cli import main
from dossier_rules.services import screening_log
from dossier_rules.services.accounts import AccountError, Accounts, LastAdmin, LoginLimited
from dossier_rules.storage import Database, NeedsUpgrade, describe, migrate, schema
from dossier_rules.storage import screenings as screening_rows

ROOT = Path(__file__).resolve().parents[1]
RELEASE_0_1 = ROOT / "tests" / "fixtures" / "storage" / "release-0.1.sql"
PASSWORD = "a long enough password"
KEPT_TABLES = ("users", "tokens", "sessions", "log", "log_head", "screenings", "notices", "items")
"""Tables of release 0.1 whose rows an upgrade keeps (login_failures is replaced, see migration 0002)."""


@pytest.fixture
def db(db_location: str | Path) -> Iterator[Database]:
    database = Database(db_location)
    yield database
    database.close()


def release_rows() -> dict[str, list[dict[str, Any]]]:
    """Every row of the release 0.1 fixture, per table."""
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    conn.executescript(RELEASE_0_1.read_text(encoding="utf-8"))
    return {table: [dict(r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY 1")] for table in (*KEPT_TABLES, "login_failures")}


def old_database(location: str | Path) -> None:
    """A database as release 0.1 left it: SQLite from the fixture script; PostgreSQL at revision 0001 with the same rows."""
    if isinstance(location, Path):
        conn = sqlite3.connect(location)
        conn.executescript(RELEASE_0_1.read_text(encoding="utf-8"))
        conn.close()
        return
    from sqlalchemy import MetaData, create_engine

    engine = create_engine(location.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        command.upgrade(migrate.config(conn), "0001")
        tables = MetaData()
        tables.reflect(conn)
        for table, found in release_rows().items():
            if found:
                conn.execute(tables.tables[table].insert(), found)
    engine.dispose()


# --------------------------------------------------------------------------- schema and migrations


def test_the_migrations_build_exactly_the_schema_the_code_declares(db_location: str | Path) -> None:
    from sqlalchemy import create_engine

    url = str(db_location).replace("postgresql://", "postgresql+psycopg://") if isinstance(db_location, str) else f"sqlite:///{db_location}"
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(migrate.config(conn), "head")
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), schema.metadata)
    engine.dispose()
    assert differences == []


def test_a_release_0_1_database_upgrades_in_place_and_every_row_reads_back(db_location: str | Path) -> None:
    old_database(db_location)
    with pytest.raises(NeedsUpgrade) as refused:
        Database(db_location)
    assert refused.value.code == "storage.needs_upgrade" and refused.value.params == {
        "where": str(db_location) if isinstance(db_location, Path) else describe(db_location),
        "revision": "0001",
        "head": migrate.head(),
    }
    database = Database(db_location, upgrade=True)
    assert database.upgraded_from == "0001"
    before = release_rows()
    with database.read() as conn:
        for table in KEPT_TABLES:
            after = [dict(r) for r in conn.execute(select(schema.metadata.tables[table]).order_by(*schema.metadata.tables[table].primary_key)).mappings()]
            assert [{k: row[k] for k in before[table][0]} for row in after] == before[table], table
        assert screening_log.verify(conn).ok
        summaries = {r["id"]: r for r in screening_rows.summaries(conn, screening_rows.Criteria(), 100)}
    for entry in before["log"]:
        body = orjson.loads(entry["body"])
        if entry["kind"] in ("screening", "rescreening"):
            row, findings = summaries[body["screening_id"]], body["report"]["findings"]
            assert row["outcome"] == body["report"]["outcome"]
            assert (row["blocks"], row["warnings"]) == (sum(f["severity"] == "block" for f in findings), sum(f["severity"] == "warn" for f in findings))
    accounts = Accounts(database)
    assert accounts.authenticate("reviewer", PASSWORD, "10.0.0.1").role == "reviewer"
    with database.write() as conn:
        screening_log.append(conn, "notice_exported", "admin", {"notice_id": "N-after-upgrade"})
    with database.read() as conn:
        assert screening_log.verify(conn).entries == len(before["log"]) + 1
    database.close()
    again = Database(db_location, upgrade=True)
    assert again.upgraded_from is None
    again.close()


def test_db_upgrade_on_the_command_line(tmp_path: Path) -> None:
    location = tmp_path / "old.sqlite"
    old_database(location)
    runner = CliRunner()
    status = runner.invoke(main, ["db", "status", "--db", str(location)])
    assert status.exit_code == 1 and "db upgrade" in status.output
    refused = runner.invoke(main, ["users", "list", "--db", str(location)])
    assert refused.exit_code == 2 and "dossier-rules db upgrade" in refused.output and "Traceback" not in refused.output
    in_japanese = runner.invoke(main, ["--lang", "ja", "users", "list", "--db", str(location)])
    assert in_japanese.exit_code == 2 and "dossier-rules db upgrade を実行してください" in in_japanese.output
    upgraded = runner.invoke(main, ["db", "upgrade", "--db", str(location)])
    assert upgraded.exit_code == 0 and f"from schema 0001 to {migrate.head()}" in upgraded.output
    assert runner.invoke(main, ["db", "status", "--db", str(location)]).exit_code == 0


def test_a_file_that_is_not_a_database_is_one_error_line(tmp_path: Path) -> None:
    location = tmp_path / "broken.sqlite"
    location.write_bytes(b"this is not SQLite" * 100)
    result = CliRunner().invoke(main, ["users", "list", "--db", str(location)])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "damaged" in result.output


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_a_new_sqlite_database_and_its_directory_are_private_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        location = tmp_path / "new-dir" / "service.sqlite"
        database = Database(location)
        with database.write() as conn:
            screening_log.append(conn, "notice_exported", "admin", {"notice_id": "N-1"})
        files = {p.name: p.stat().st_mode & 0o777 for p in location.parent.iterdir()}
        database.close()
    finally:
        os.umask(previous)
    assert files.keys() >= {"service.sqlite", "service.sqlite-wal", "service.sqlite-shm"}
    assert set(files.values()) == {0o600}
    assert location.parent.stat().st_mode & 0o777 == 0o700


# --------------------------------------------------------------------------- the log with many writers


def test_concurrent_appends_stay_totally_ordered_and_chained(db: Database, db_location: str | Path) -> None:
    others = [Database(db_location) for _ in range(2)]  # separate pools, as separate processes would have

    def append(n: int) -> int:
        with others[n % 2].write() as conn:
            return screening_log.append(conn, "notice_exported", f"user{n}", {"notice_id": f"N-{n}"}).seq

    with ThreadPoolExecutor(8) as pool:
        positions = list(pool.map(append, range(60)))
    assert sorted(positions) == list(range(1, 61))
    with db.read() as conn:
        result = screening_log.verify(conn)
        bodies = sorted(orjson.loads(e.body)["notice_id"] for e in screening_log.entries(conn))
    assert result.ok and result.entries == 60 and bodies == sorted(f"N-{n}" for n in range(60))
    for other in others:
        other.close()


def test_a_draft_is_approved_exactly_once_among_concurrent_approvers(db: Database) -> None:
    from dossier_rules import sharing
    from dossier_rules.storage import notices

    with db.write() as conn:
        notices.insert_notice(
            conn, **{**release_rows()["notices"][0], "id": "N-1", "state": "draft", "approved_by": None, "approved_at": None, "exported_at": None}
        )
    box = sharing.Outbox(db)
    barrier = threading.Barrier(10)

    def approve(n: int) -> bool:
        barrier.wait()
        try:
            box.approve("N-1", f"reviewer {n}", then=lambda conn, nid: screening_log.append(conn, "notice_approved", f"r{n}", {"notice_id": nid}))
        except sharing.OutboxError as exc:
            assert "already approved" in str(exc)
            return False
        return True

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(approve, range(10)))
    assert results.count(True) == 1
    with db.read() as conn:
        assert [e.kind for e in screening_log.entries(conn)] == ["notice_approved"]


# --------------------------------------------------------------------------- login limits


def test_parallel_wrong_guesses_at_one_account_evaluate_at_most_the_limit(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from dossier_rules.services import accounts as module

    accounts = Accounts(db, failures_per_account=5)
    accounts.add_user("kimura", PASSWORD, "admin")
    checked: list[str] = []
    real = module._hasher

    class Counting:
        """The password hasher, counting the checks it runs."""

        def verify(self, hashed: str, password: str) -> bool:
            checked.append(password)
            return real.verify(hashed, password)

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    monkeypatch.setattr(module, "_hasher", Counting())

    def guess(n: int) -> str:
        try:
            accounts.authenticate("kimura", f"wrong guess {n:04d}", "203.0.113.9")
        except LoginLimited:
            return "limited"
        except AccountError:
            return "refused"
        return "in"

    with ThreadPoolExecutor(40) as pool:
        outcomes = list(pool.map(guess, range(40)))
    assert len(checked) == outcomes.count("refused") == 5
    assert outcomes.count("limited") == 35


def test_backoff_is_per_account_and_address_and_never_blocks_a_right_password_from_elsewhere(db: Database) -> None:
    accounts = Accounts(db, failures_per_account=3, failures_per_address=50)
    accounts.add_user("kimura", PASSWORD, "admin")
    for _ in range(3):
        with pytest.raises(AccountError):
            accounts.authenticate("kimura", "wrong wrong wrong", "198.51.100.7")
    with pytest.raises(LoginLimited) as limited:
        accounts.authenticate("kimura", PASSWORD, "198.51.100.7")
    assert 0 < limited.value.retry_after <= 60
    assert accounts.locked_out("kimura", "198.51.100.7") and not accounts.locked_out("kimura", "192.0.2.1")
    assert accounts.authenticate("kimura", PASSWORD, "192.0.2.1").username == "kimura"
    with pytest.raises(AccountError):
        accounts.authenticate("kimura", "wrong wrong wrong", "192.0.2.1")
    assert accounts.authenticate("kimura", PASSWORD, "192.0.2.1").username == "kimura"


def test_an_address_past_its_own_limit_is_refused_for_every_account(db: Database) -> None:
    accounts = Accounts(db, failures_per_account=5, failures_per_address=2)
    for name in ("a", "b"):
        with pytest.raises(AccountError):
            accounts.authenticate(name, "wrong wrong wrong", "198.51.100.8")
    with pytest.raises(LoginLimited):
        accounts.authenticate("c", "wrong wrong wrong", "198.51.100.8")


# --------------------------------------------------------------------------- credentials


def test_credentials_reset_disable_enable_expiry_last_used(db: Database) -> None:
    accounts = Accounts(db)
    admin = accounts.add_user("kimura", PASSWORD, "admin")
    user = accounts.add_user("sato", PASSWORD, "screener")
    _, before_reset = accounts.create_token(user, "script")
    accounts.reset_password("sato", PASSWORD + "!")
    assert accounts.user_for_token(before_reset) is None
    _, before_disable = accounts.create_token(user, "script")
    accounts.set_disabled("sato")
    accounts.set_disabled("sato", False)
    assert accounts.user_for_token(before_disable) is None
    token_id, live = accounts.create_token(user, "script", expires_days=1)
    assert accounts.user_for_token(live) == accounts.user("sato")
    listed = {t["id"]: t for t in accounts.tokens(user)}
    assert listed[token_id]["last_used"] is not None and listed[token_id]["expires_at"] is not None
    with db.write() as conn:
        conn.execute(schema.tokens.update().where(schema.tokens.c.id == token_id).values(expires_at="2020-01-01T00:00:00+00:00"))
    assert accounts.user_for_token(live) is None
    with pytest.raises(AccountError, match="cannot create tokens"):
        accounts.create_token(user, "from a token", by_token=True)
    with pytest.raises(LastAdmin):
        accounts.set_disabled("kimura")
    with pytest.raises(AccountError):
        accounts.change_password(user, "not the password", PASSWORD + "?", "192.0.2.3")
    accounts.change_password(user, PASSWORD + "!", PASSWORD + "?", "192.0.2.3")
    assert accounts.authenticate("sato", PASSWORD + "?", "192.0.2.3").username == "sato"
    assert admin.role == "admin"


# --------------------------------------------------------------------------- listings


def test_summaries_filter_in_sql_and_never_read_the_stored_report(db: Database) -> None:
    with db.write() as conn:
        for n in range(1, 31):
            entry = screening_log.append(conn, "screening", "sato", {"screening_id": f"S-{n:08d}", "report": {}})
            screening_rows.insert(
                conn,
                id=f"S-{n:08d}",
                log_seq=entry.seq,
                actor="sato" if n % 2 else "kimura",
                screened_at=entry.at,
                dossier_id=f"KH-{n}",
                country="KH" if n % 3 else "LA",
                kind="candidate",
                as_of="2026-01-01",
                outcome="blocked" if n % 5 == 0 else "clear",
                blocks=1 if n % 5 == 0 else 0,
            )
    with db.read() as conn:
        chosen = screening_rows.Criteria(countries=frozenset({"KH"}), actor="sato", severities=frozenset({"block"}))
        found = screening_rows.summaries(conn, chosen, 100)
        assert [r["id"] for r in found] == [f"S-{n:08d}" for n in range(30, 0, -1) if n % 3 and n % 2 and n % 5 == 0]
        page = screening_rows.summaries(conn, screening_rows.Criteria(before_seq=11), 4)
        assert [r["log_seq"] for r in page] == [10, 9, 8, 7] and "body" not in page[0]


def test_an_outbox_file_of_release_0_1_opens_and_keeps_its_notices(tmp_path: Path) -> None:
    from dossier_rules import sharing

    release = sqlite3.connect(":memory:")
    release.executescript(RELEASE_0_1.read_text(encoding="utf-8"))
    outbox = tmp_path / "outbox.sqlite"
    old = sqlite3.connect(outbox)
    for table in ("notices", "items"):
        old.execute(release.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0])
        rows = release.execute(f"SELECT * FROM {table}").fetchall()
        old.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
    old.commit()
    old.close()
    with sharing.Outbox(outbox) as box:
        listed = box.notices()
        assert sorted(n["id"] for n in listed) == sorted(r["id"] for r in release_rows()["notices"])
        assert sum(n["findings"] for n in listed) == len(release_rows()["items"])


def test_a_postgresql_url_without_the_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def without_psycopg(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "psycopg" or name.startswith("psycopg."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_psycopg)
    result = CliRunner().invoke(main, ["users", "list", "--db", "postgresql://screening:secret@db.example/screening"])
    assert result.exit_code == 2 and "dossier-rules[server]" in result.output and "secret" not in result.output
