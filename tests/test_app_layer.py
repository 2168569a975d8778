"""The application layer: interfaces only call it, refusals are typed, notices change through one logged gate."""

from __future__ import annotations

import ast
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from dossier_rules import errors
from dossier_rules.cli import main
from dossier_rules.server.errors import STATUS_BY_CODE
from dossier_rules.services import registries as registry_service
from dossier_rules.services import screening_log
from dossier_rules.web import router as pages

from .server_support import PASSWORD, ROOT, Service, make_service

PACKAGE = ROOT / "src" / "dossier_rules"
INTERFACES = ("cli", "server", "web")
ALLOWED = {
    # `serve` starts the service: the one command that needs the server itself
    ("cli/serve.py", "dossier_rules.server"),
    ("cli/serve.py", "dossier_rules.server.settings"),
    ("cli/serve.py", "dossier_rules.server.app"),
}
SQL_MODULES = {
    "registries.py",  # the read-only index cache of large registry files, not the service's database
}
"""Modules outside ``storage/`` (the data-access package) allowed to hold SQL."""
SQL = re.compile(r"^\s*(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|CREATE (TABLE|INDEX|UNIQUE INDEX)|BEGIN|COMMIT|ROLLBACK|PRAGMA)\b")


# --------------------------------------------------------------------------- the shape of the code


def imports(source: str, module: str, is_package: bool = False) -> list[tuple[str, list[str]]]:
    """Every import of a module's source (nested ones too): (absolute module, names imported from it)."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((target, [alias.name for alias in node.names]))
    return found


def violations(relative: str, source: str) -> list[str]:
    """Cross-interface imports and private names of other packages in one interface module."""
    module = "dossier_rules." + relative.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
    own = relative.split("/")[0]
    server_public = {"AccountError", "Accounts", "LoginLimited", "User", "create_app", "CSRF_FIELD", "CSRF_HEADER", "Principal"}
    server_public |= {"csrf_token", "log_in", "log_out", "optional_principal", "require", "signed_in", "Settings"}
    found = []
    for target, names in imports(source, module, relative.endswith("__init__.py")):
        parts = target.split(".")
        if parts[0] != "dossier_rules":
            continue
        other = parts[1] if len(parts) > 1 else ""
        for name in names:
            dunder = name.startswith("__") and name.endswith("__")
            if name.startswith("_") and name != "_" and not dunder and not target.startswith(f"dossier_rules.{own}"):
                found.append(f"{relative}: private name {name} of {target}")
        if other not in INTERFACES or other == own or (relative, target) in ALLOWED:
            continue
        if own == "web" and target == "dossier_rules.server" and set(names) <= server_public:
            continue  # the pages mount on the service through its public names (sign-in, roles, CSRF)
        found.append(f"{relative}: imports {target} {names or ''}".rstrip())
    return found


def interface_files() -> list[Path]:
    return sorted(path for name in INTERFACES for path in (PACKAGE / name).rglob("*.py"))


def test_interfaces_never_import_each_other_nor_private_names() -> None:
    found = [v for path in interface_files() for v in violations(str(path.relative_to(PACKAGE)), path.read_text(encoding="utf-8"))]
    assert found == []


def test_the_import_walk_catches_what_the_pages_used_to_do() -> None:
    old_pages = (
        "from ..server import AccountError, notice_routes, require\n"
        "from ..server.screening_routes import _may_see_names\n"
        "def f():\n    from ..cli.common import default_packs_dir\n"
    )
    found = violations("web/pages.py", old_pages)
    assert any("notice_routes" in v for v in found)
    assert any("private name _may_see_names" in v for v in found)
    assert any("dossier_rules.cli.common" in v for v in found)
    assert violations("server/app.py", "from ..cli.common import default_packs_dir\n")
    assert violations("cli/users.py", "from ..server.settings import Settings\n")
    assert not violations("cli/users.py", "from ..services.accounts import open_accounts\nfrom ..locale import _\n")


def interface_imports(relative: str, source: str) -> list[str]:
    """Imports of an interface (``cli``, ``server``, ``web``) in one module of the application layer."""
    module = "dossier_rules." + relative.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
    found = []
    for target, names in imports(source, module, relative.endswith("__init__.py")):
        parts = target.split(".")
        if parts[0] == "dossier_rules" and len(parts) > 1 and parts[1] in INTERFACES:
            found.append(f"{relative}: imports {target} {names or ''}".rstrip())
    return found


def test_the_application_layer_never_imports_an_interface() -> None:
    found = [
        v for path in sorted((PACKAGE / "services").rglob("*.py")) for v in interface_imports(str(path.relative_to(PACKAGE)), path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_application_layer_check_catches_a_store_in_the_server() -> None:
    assert interface_imports("services/notices.py", "from ..server import screening_log\n")
    assert interface_imports("services/screening.py", "def f():\n    from ..server.screenings import Screenings\n")
    assert interface_imports("services/__init__.py", "from ..web import router\n")
    assert interface_imports("services/accounts.py", "import dossier_rules.cli.users\n")
    assert not interface_imports("services/notices.py", "from . import screening_log\nfrom ..storage import Database\n")


def sql_in(source: str) -> list[str]:
    """``sqlite3`` imports and SQL statements written as strings in a module's source."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any(a.name == "sqlite3" for a in node.names):
            found.append("import sqlite3")
        elif isinstance(node, ast.ImportFrom) and node.module == "sqlite3":
            found.append("from sqlite3 import")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.match(node.value):
            found.append(node.value.strip().splitlines()[0][:60])
    return found


def test_no_sql_outside_the_storage_modules() -> None:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = str(path.relative_to(PACKAGE))
        if relative not in SQL_MODULES and not relative.startswith("storage/") and (hits := sql_in(path.read_text(encoding="utf-8"))):
            found[relative] = hits
    assert found == {}


def test_the_sql_check_catches_sql_and_leaves_words_alone() -> None:
    assert sql_in("import sqlite3\n") == ["import sqlite3"]
    assert sql_in('q = "SELECT id FROM notices WHERE state = ?"\n')
    assert sql_in('conn.execute("BEGIN IMMEDIATE")\n')
    assert not sql_in('help = "Select the notices to approve; update the list"\n')


def test_every_error_code_has_a_status_and_a_japanese_message() -> None:
    assert set(STATUS_BY_CODE) == set(errors.MESSAGES)
    error = errors.DossierError("notice.not_found", notice_id="N-KH-a-1")
    assert error.message("en") == "no notice N-KH-a-1"
    assert "N-KH-a-1" in error.message("ja") and error.message("ja") != error.message("en")
    with pytest.raises(ValueError):
        errors.DossierError("no.such.code")


def test_no_message_names_a_file_of_the_server_or_a_command() -> None:
    for code, text in errors.MESSAGES.items():
        assert "--" not in text and "share approve" not in text and "/" not in text.replace("/ja", ""), code


# --------------------------------------------------------------------------- the service


def screened(service: Service) -> list[str]:
    ids = []
    for path in sorted((ROOT / "samples").glob("*.json")):
        response = service.client.post("/api/v1/screenings", content=path.read_bytes(), headers={**service.as_("screener"), "content-type": "application/json"})
        ids.append(response.json()["screening_id"])
    return ids


def drafts(service: Service) -> list[str]:
    result = service.client.post("/api/v1/notices/build", json={"screening_ids": screened(service)}, headers=service.as_("reviewer")).json()
    assert result["created"]
    return list(result["created"])


def log_kinds(service: Service) -> list[tuple[str, str, str | None]]:
    with service.app.state.db.read() as conn:
        return [(e.kind, e.actor, orjson.loads(e.body).get("notice_id")) for e in screening_log.entries(conn)]


def test_typed_errors_get_their_status_and_the_clients_language(tmp_path: Path) -> None:
    service = make_service(tmp_path)
    reviewer = service.as_("reviewer")
    missing = service.client.post("/api/v1/notices/N-XX-nope/approve", headers=reviewer)
    assert missing.status_code == 404 and missing.json()["errors"][0]["message"] == "no notice N-XX-nope"
    in_japanese = service.client.post("/api/v1/notices/N-XX-nope/approve", headers={**reviewer, "Accept-Language": "ja,en;q=0.5"})
    assert in_japanese.status_code == 404 and "N-XX-nope" in in_japanese.json()["errors"][0]["message"]
    assert in_japanese.json()["errors"][0]["message"] != "no notice N-XX-nope"
    nid = drafts(service)[0]
    draft = service.client.post(f"/api/v1/notices/{nid}/export", headers=reviewer).json()["errors"][0]["message"]
    assert "approve it first" in draft and "--by" not in draft and "share approve" not in draft
    rule = service.client.get("/api/v1/rules/common.test-frau", headers=service.as_("screener"))
    assert rule.status_code == 404 and "common.test-fraud" in rule.json()["errors"][0]["message"]


def test_the_api_lists_notices_with_the_clis_filters_in_the_store(tmp_path: Path) -> None:
    service = make_service(tmp_path)
    ids = drafts(service)
    reviewer = service.as_("reviewer")
    everything = service.client.get("/api/v1/notices", headers=reviewer).json()
    assert sorted(n["id"] for n in everything) == sorted(ids)
    two = service.client.get("/api/v1/notices", params=[("country", "kh"), ("country", "PK")], headers=reviewer).json()
    assert two and {n["country"] for n in two} <= {"KH", "PK"} and len(two) < len(everything)
    act = everything[0]["act"]
    assert {n["act"] for n in service.client.get("/api/v1/notices", params={"act": act}, headers=reviewer).json()} == {act}
    assert service.client.get("/api/v1/notices", params={"created_to": "2000-01-01"}, headers=reviewer).json() == []
    assert service.client.get("/api/v1/notices", params={"intermediary": "no such party"}, headers=reviewer).json() == []


def test_a_preview_of_a_draft_is_marked_and_logged(tmp_path: Path) -> None:
    service = make_service(tmp_path)
    nid = drafts(service)[0]
    for fmt in ("html", "md"):
        text = service.client.get(f"/api/v1/notices/{nid}/preview", params={"format": fmt}, headers=service.as_("reviewer")).text
        assert "DRAFT: not approved" in text and "案（未承認）：承認前のため" in text
    assert [k for k in log_kinds(service) if k[0] == "notice_previewed"] == [("notice_previewed", "reviewer", nid)] * 2
    service.client.post(f"/api/v1/notices/{nid}/approve", headers=service.as_("reviewer"))
    approved = service.client.get(f"/api/v1/notices/{nid}/preview", params={"format": "md"}, headers=service.as_("reviewer")).text
    assert "DRAFT" not in approved


def test_the_cli_approves_in_the_service_database_only_as_a_logged_reviewer(tmp_path: Path) -> None:
    service = make_service(tmp_path)
    nid = drafts(service)[0]
    db = str(service.app.state.settings.db)
    runner = CliRunner()
    refused = runner.invoke(main, ["share", "approve", nid, "--by", "Kato", "--outbox", db])
    assert refused.exit_code == 2 and "Kato" in refused.stderr and "--by USERNAME" not in refused.stderr
    assert not [k for k in log_kinds(service) if k[0] == "notice_approved"]
    approved = runner.invoke(main, ["share", "approve", nid, "--by", "reviewer", "--outbox", db])
    assert approved.exit_code == 0, approved.stderr
    assert ("notice_approved", "reviewer", nid) in log_kinds(service)
    shown = service.client.get(f"/api/v1/notices/{nid}", headers=service.as_("reviewer")).json()
    assert shown["approved_by"] == "Reviewer Person"
    exported = runner.invoke(main, ["share", "export", nid, "--outbox", db])
    assert exported.exit_code == 2 and "--by USERNAME" in exported.stderr


def test_a_stand_alone_outbox_takes_any_name_and_the_cli_adds_its_own_hint(tmp_path: Path) -> None:
    service = make_service(tmp_path)
    reports = tmp_path / "reports.jsonl"
    stored = [service.client.get(f"/api/v1/screenings/{sid}", headers=service.as_("reviewer")).json() for sid in screened(service)]
    reports.write_text("".join(orjson.dumps(s["report"]).decode() + "\n" for s in stored))
    outbox = str(tmp_path / "outbox.sqlite")
    runner = CliRunner()
    assert runner.invoke(main, ["share", "build", str(reports), "--outbox", outbox]).exit_code == 0
    nid = orjson.loads(runner.invoke(main, ["share", "list", "--format", "json", "--outbox", outbox]).output)[0]["id"]
    refused = runner.invoke(main, ["share", "export", nid, "--outbox", outbox])
    assert refused.exit_code == 1 and f"approve it first (share approve {nid} --by NAME)" in refused.stderr
    shown = runner.invoke(main, ["share", "show", nid, "--outbox", outbox])
    assert shown.exit_code == 0 and shown.output.startswith("> **DRAFT: not approved")
    assert runner.invoke(main, ["share", "approve", nid, "--by", "Kato", "--outbox", outbox]).exit_code == 0
    assert runner.invoke(main, ["share", "export", nid, "--outbox", outbox]).exit_code == 0


def test_the_sample_registries_are_never_overwritten_through_the_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    service = make_service(tmp_path, registries_dir=tmp_path / "registries")
    monkeypatch.setattr(registry_service.package_data, "is_installed", lambda path: True)
    params = {"country": "KH", "kind": "accredited-agencies", "source": "s"}
    refused = service.client.post(
        "/api/v1/registries/import", params=params, content="id,name\nA-1,Agency\n", headers={**service.as_("admin"), "content-type": "text/csv"}
    )
    assert refused.status_code == 409 and "never overwritten" in refused.json()["errors"][0]["message"]
    assert not (tmp_path / "registries").exists()
    unknown = service.client.post(
        "/api/v1/registries/import", params={**params, "kind": "nope"}, content="id,name\n", headers={**service.as_("admin"), "content-type": "text/csv"}
    )
    assert unknown.status_code == 422


# --------------------------------------------------------------------------- the pages


@pytest.fixture()
def site(tmp_path: Path) -> Service:
    svc = make_service(tmp_path)
    svc.app.include_router(pages)
    return svc


def _sign_in(client: Any, who: str) -> str:
    response = client.post("/login", data={"username": who, "password": PASSWORD}, follow_redirects=True)
    assert response.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)  # type: ignore[union-attr]


def test_building_notices_with_nothing_ticked_says_so(site: Service) -> None:
    csrf = _sign_in(site.client, "reviewer")
    response = site.client.post("/notices/build", data={"csrf_token": csrf})
    assert response.status_code == 422 and "審査結果を1件以上選択してください" in response.text  # the reviewer's language: Japanese


def test_the_preview_page_marks_a_draft(site: Service) -> None:
    nid = drafts(site)[0]
    _sign_in(site.client, "reviewer")
    response = site.client.get(f"/notices/{nid}/preview")
    assert response.status_code == 200 and "DRAFT: not approved" in response.text
    assert ("notice_previewed", "reviewer", nid) in log_kinds(site)


def test_a_held_write_lock_does_not_stall_other_requests(site: Service) -> None:
    """An upload waiting on the database must not hold the event loop: /healthz answers meanwhile."""
    dossier = (ROOT / "samples" / "kh-candidate-clean.json").read_bytes()
    answers: dict[str, Any] = {}
    with site.client as client:
        blocker = sqlite3.connect(site.app.state.settings.db, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:

            def upload() -> None:
                answers["upload"] = client.post(
                    "/screenings/upload", files={"files": ("a.json", dossier, "application/json")}, headers=site.as_("screener"), follow_redirects=False
                )

            uploading = threading.Thread(target=upload)
            uploading.start()
            time.sleep(1.0)  # the upload reaches the database and waits for the lock

            def health() -> None:
                answers["health"] = client.get("/healthz")
                answers["upload_done_then"] = "upload" in answers

            checking = threading.Thread(target=health)
            checking.start()
            checking.join(timeout=20)
            answered = not checking.is_alive()
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        uploading.join(timeout=120)
        checking.join(timeout=120)
    assert answered and answers["health"].status_code == 200
    assert answers["upload_done_then"] is False  # it answered while the upload was still waiting
    assert answers["upload"].status_code == 303
