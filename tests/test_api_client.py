"""A client generated from schemas/openapi.json, used as an integrator would, against the running service.

The client is generated with openapi-python-client into a temporary directory
and a script drives it over HTTP: every answer it checks is one of the
generated models (the report, the notice, the error record), so an operation
the document describes wrongly fails here. The generator's only configuration
maps the JSON Lines and CSV bodies to byte streams, which it otherwise skips.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from .server_support import PASSWORD, ROOT, make_service

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
SAMPLE = ROOT / "samples" / "kh-candidate-revoked-agency.json"
BODY_LIMIT = 64 * 1024
CONFIG = """\
package_name_override: dossier_rules_client
post_hooks: []
content_type_overrides:
  application/x-ndjson: application/octet-stream
  application/jsonl: application/octet-stream
  application/json-lines: application/octet-stream
  application/x-jsonlines: application/octet-stream
  text/csv: application/octet-stream
"""

SCRIPT = r"""
import io, json, sys
from dossier_rules_client import AuthenticatedClient, Client
from dossier_rules_client.api.accounts import create_token, sign_in
from dossier_rules_client.api.notices import approve, build, export, export_json, preview, show
from dossier_rules_client.api.screenings import list_screenings, read_screening, rescreen, screen_many, screen_one
from dossier_rules_client.models import (
    BuildRequest, CandidateDossier, Credentials, ErrorRecord, Notice, RescreenRequest, Rescreening, Report,
    ScreeningOut, ScreeningPage, StoredScreening, TokenRequest,
)
from dossier_rules_client.types import File

base, password, sample, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
dossier = CandidateDossier.from_dict(json.load(open(sample, encoding="utf-8")))

def refused(answer, status, code):
    assert answer.status_code == status, (answer.status_code, answer.content)
    assert isinstance(answer.parsed, ErrorRecord), answer.parsed
    assert answer.parsed.code == code and answer.parsed.errors[0].message, answer.parsed
    assert "/" not in answer.parsed.errors[0].message.replace(answer.parsed.source, ""), answer.parsed

# sign in with the cookie, then a personal token (the cookie session sends its CSRF token)
with Client(base_url=base) as anonymous:
    session = sign_in.sync(client=anonymous, body=Credentials(username="reviewer", password=password))
    assert session.user.role == "reviewer"
    cookies = dict(anonymous.get_httpx_client().cookies)
with Client(base_url=base, cookies=cookies) as no_csrf:
    refused(create_token.sync_detailed(client=no_csrf, body=TokenRequest(name="x")), 403, "request.forbidden")
with Client(base_url=base, cookies=cookies, headers={"X-CSRF-Token": session.csrf_token}) as browser:
    token = create_token.sync_detailed(client=browser, body=TokenRequest(name="generated client"))
    assert token.status_code == 201 and token.headers["location"].endswith(token.parsed.id)
api = AuthenticatedClient(base_url=base, token=token.parsed.token)

# screen (a typed report back), list, read, re-screen
screened = screen_one.sync_detailed(client=api, body=dossier)
assert screened.status_code == 201 and isinstance(screened.parsed, ScreeningOut), screened.content
assert isinstance(screened.parsed.report, Report) and screened.parsed.report.findings
sid = screened.parsed.screening_id
assert screened.headers["location"] == f"/api/v1/screenings/{sid}"
page = list_screenings.sync(client=api, limit=10)
assert isinstance(page, ScreeningPage) and page.items[0].screening_id == sid
stored = read_screening.sync(sid, client=api)
assert isinstance(stored, StoredScreening) and stored.report.dossier_id == dossier.dossier_id
again = rescreen.sync(sid, client=api, body=RescreenRequest())
assert isinstance(again, Rescreening) and isinstance(again.new, Report) and again.changes.unchanged >= 0

# a refusal of each kind, each the typed error record
refused(read_screening.sync_detailed(sid, client=AuthenticatedClient(base_url=base, token="drt_nope")), 401, "request.unauthenticated")
refused(read_screening.sync_detailed("S-99999999", client=api), 404, "screening.not_found")
refused(list_screenings.sync_detailed(client=api, limit=0), 422, "request.invalid")
big = CandidateDossier.from_dict({**dossier.to_dict(), "dossier_id": "x" * limit})
refused(screen_one.sync_detailed(client=api, body=big), 413, "request.too_large")
malformed = api.get_httpx_client().post("/api/v1/tokens", content=b"{not json", headers={"Content-Type": "application/json"})
assert malformed.status_code == 400 and ErrorRecord.from_dict(malformed.json()).code == "request.malformed"

# build, refuse to export a draft, approve, export as HTML
built = build.sync(client=api, body=BuildRequest(screening_ids=[sid]))
nid = built.created[0]
draft = show.sync(nid, client=api)
assert isinstance(draft, Notice) and draft.state.value == "draft" and draft.notice_id == nid
assert "DRAFT" in preview.sync(nid, client=api)
refused(export.sync_detailed(nid, client=api), 409, "notice.is_draft")
approved = approve.sync(nid, client=api)
assert isinstance(approved, Notice) and approved.state.value == "approved"
page_html = export.sync(nid, client=api)
assert isinstance(page_html, str) and nid in page_html and "<html" in page_html.lower()
assert export_json.sync(nid, client=api).state.value == "exported"

# the batch endpoint: streamed JSON Lines, one record out per record in
line = json.dumps(dossier.to_dict(), ensure_ascii=False)
lines = "\n".join([line, "{not json", line]) + "\n"
out = screen_many.sync(client=api, body=File(payload=io.BytesIO(lines.encode()), mime_type="application/x-ndjson"))
records = [json.loads(r) for r in out.payload.read().decode().splitlines()]
assert len(records) == 3 and "errors" in records[1] and records[1]["source"] == "body:2"
assert [Report.from_dict(records[i]).dossier_id for i in (0, 2)] == [dossier.dossier_id] * 2
print("the generated client did everything")
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.skipif(not GENERATOR.exists(), reason="openapi-python-client is not installed next to this Python (the dev extra has it)")
def test_a_generated_client_does_the_whole_round(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    generated = subprocess.run(
        [GENERATOR, "generate", "--path", ROOT / "schemas" / "openapi.json", "--output-path", tmp_path / "dossier_rules_client"]
        + ["--config", tmp_path / "config.yaml", "--meta", "none"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert generated.returncode == 0 and "Warning" not in generated.stdout + generated.stderr, generated.stdout + generated.stderr
    service = make_service(tmp_path, secure_cookies=False, max_body_bytes=BODY_LIMIT)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(service.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        script = tmp_path / "integrator.py"
        script.write_text(SCRIPT, encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(tmp_path)}
        run = subprocess.run(
            [sys.executable, script, f"http://127.0.0.1:{port}", PASSWORD, SAMPLE, str(BODY_LIMIT)],
            check=False,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "the generated client did everything" in run.stdout
