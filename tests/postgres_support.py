"""A throwaway PostgreSQL cluster for the tests: Debian's server binaries, a free port, a temporary directory.

The cluster is started once per test run (``initdb`` and ``pg_ctl``, about
3 s) and every test gets a database of its own in it. As root (CI and the
development machines run tests as root, and ``initdb`` refuses root) the
server runs as the ``postgres`` user through ``runuser``. When the binaries
or that user are missing, :func:`start` returns why, and the tests that need
the server are skipped with that reason (the run's summary repeats it).

The cluster trades durability for speed (``fsync=off``): it holds nothing
but test data.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

BIN_ENV = "DOSSIER_RULES_PG_BIN"


@dataclass
class Cluster:
    directory: Path
    port: int
    bin: Path
    as_postgres: bool
    version: str

    @property
    def base(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    def create_database(self) -> str:
        """A new, empty database; its URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.base + "/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"{self.base}/{name}"

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            _run(self, "pg_ctl", "-D", str(self.directory / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)


def _binaries() -> Path | None:
    if os.environ.get(BIN_ENV):
        return Path(os.environ[BIN_ENV])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(cluster: Cluster, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(cluster.bin / tool), *args]
    if cluster.as_postgres:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)


def start() -> Cluster | str:
    """A running cluster, or the reason there is none."""
    binaries = _binaries()
    if binaries is None or not (binaries / "initdb").exists():
        return "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin; apt-get install postgresql, or set DOSSIER_RULES_PG_BIN)"
    as_postgres = os.geteuid() == 0
    directory = Path(tempfile.mkdtemp(prefix="dossier-rules-pg-"))
    if as_postgres:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run the server as"
        if not shutil.which("runuser"):
            return "running as root and runuser is missing"
        os.chown(directory, owner.pw_uid, owner.pw_gid)
        os.chmod(directory, 0o755)
    cluster = Cluster(directory, _free_port(), binaries, as_postgres, binaries.parent.name)
    options = (
        f"-p {cluster.port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    try:
        _run(cluster, "initdb", "-D", str(directory / "data"), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C")
        _run(cluster, "pg_ctl", "-D", str(directory / "data"), "-o", options, "-l", str(directory / "log"), "-w", "start")
    except (subprocess.SubprocessError, OSError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        cluster.stop()
        return f"the PostgreSQL cluster did not start: {detail.strip().splitlines()[-1] if detail.strip() else exc}"
    return cluster
