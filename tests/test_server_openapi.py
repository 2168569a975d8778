"""The OpenAPI document: checked in and current, served, and no input it admits gets a 5xx (schemathesis)."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection

from dossier_rules.server.app import openapi_text

from .server_support import ROOT, make_service

CHECKED_IN = ROOT / "schemas" / "openapi.json"
EXAMPLES_PER_OPERATION = 12
"""Bounded so the suite stays fast: about 30 operations × this many generated requests."""


def _fuzzed_service():  # type: ignore[no-untyped-def]
    tmp = Path(tempfile.mkdtemp(prefix="dossier-rules-fuzz-"))
    shutil.copytree(ROOT / "rules" / "registries", tmp / "registries")
    return make_service(tmp, registries_dir=tmp / "registries")


TEXT_BODIES = ("/api/v1/screenings/batch", "/api/v1/registries/import")


@schemathesis.serializer("application/x-ndjson", "application/jsonl", "application/json-lines", "application/x-jsonlines", "text/csv")
def _as_text(ctx, value):  # type: ignore[no-untyped-def]
    """Bodies the document declares as text (JSON Lines, CSV): generated strings, sent as UTF-8."""
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else json.dumps(value).encode()


SEMANTIC_REFUSALS = ["2xx", "401", "403", "404", "409", "422", "429"]
"""A request the schema admits may still be refused on its meaning (422: a country without a pack, a registry
its country does not keep; 404/409: an id or a state; 429: sign-in limits): the document lists these refusals per operation,
and every other status (400, 413, 415, 5xx) for schema-valid data fails the check."""
CONFIG = schemathesis.Config.from_dict({"checks": {"positive_data_acceptance": {"expected-statuses": SEMANTIC_REFUSALS}}})

SERVICE = _fuzzed_service()
schema = schemathesis.openapi.from_asgi("/openapi.json", SERVICE.app, config=CONFIG)


def test_the_checked_in_document_is_current() -> None:
    current = openapi_text(SERVICE.app.state.engine)
    assert CHECKED_IN.read_text(encoding="utf-8") == current, "schemas/openapi.json is stale: run dossier-rules serve --write-openapi schemas/openapi.json"


def test_the_document_is_served_and_the_docs_need_no_cdn() -> None:
    served = SERVICE.client.get("/openapi.json").json()
    assert served == json.loads(CHECKED_IN.read_text(encoding="utf-8"))
    assert SERVICE.client.get("/docs").status_code == 404 and SERVICE.client.get("/redoc").status_code == 404


@pytest.mark.filterwarnings("ignore")
@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
def test_no_generated_request_gets_a_server_error(case) -> None:  # type: ignore[no-untyped-def]
    """As admin, so every operation is reached past its role check (the role table tests the refusals).

    Every built-in check: no server error, and status, content type, headers and body as the document says.
    """
    # a "non-string" body for a text body is still text once sent: nothing to reject (each bad line gets its error record)
    artefact = case.operation.path in TEXT_BODIES and not isinstance(case.body, str)
    case.call_and_validate(headers=SERVICE.as_("admin"), excluded_checks=[negative_data_rejection] if artefact else None)


def test_serve_writes_the_checked_in_document(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from dossier_rules.cli import main

    written = tmp_path / "openapi.json"
    result = CliRunner().invoke(main, ["serve", "--write-openapi", str(written), "--db", str(tmp_path / "x.sqlite")])
    assert result.exit_code == 0, result.output
    assert written.read_text(encoding="utf-8") == CHECKED_IN.read_text(encoding="utf-8")


def test_allow_names_every_method_of_the_path_and_only_those() -> None:
    both = SERVICE.client.put("/api/v1/session")
    assert both.status_code == 405 and both.headers["allow"] == "DELETE, POST"
    assert both.json()["code"] == "request.method_not_allowed" and "DELETE, POST" in both.json()["errors"][0]["message"]
    concrete = SERVICE.client.get("/api/v1/screenings/batch", headers=SERVICE.as_("admin"))  # not /screenings/{screening_id}
    assert concrete.status_code == 404
    assert SERVICE.client.put("/api/v1/screenings/batch", headers=SERVICE.as_("admin")).headers["allow"] == "POST"
    japanese = SERVICE.client.put("/api/v1/session", headers={"Accept-Language": "ja"}).json()["errors"][0]["message"]
    assert "使えるのは DELETE, POST" in japanese


@pytest.mark.parametrize("value", ["0", "1700000000", "2025-1-01", "20250101", "2025-02-30"])
def test_dates_are_yyyy_mm_dd_only(value: str) -> None:
    refused = SERVICE.client.get("/api/v1/screenings", params={"submitted_to": value}, headers=SERVICE.as_("admin"))
    assert refused.status_code == 422 and refused.json()["errors"][0]["pointer"] == "/submitted_to"
    assert SERVICE.client.get("/api/v1/screenings", params={"submitted_to": "2025-02-28"}, headers=SERVICE.as_("admin")).status_code == 200


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe{}", b""])
def test_a_body_that_is_not_json_is_a_400_error_record_on_every_json_route(body: bytes) -> None:
    for path in ("/api/v1/tokens", "/api/v1/notices/build", "/api/v1/screenings"):
        answer = SERVICE.client.post(path, content=body, headers={**SERVICE.as_("admin"), "Content-Type": "application/json"})
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json()["code"] == "request.malformed" and answer.json()["outcome"] == "unreadable"


def test_a_refusal_names_no_server_file() -> None:
    database = str(SERVICE.app.state.settings.db)
    one = SERVICE.client.get("/api/v1/notices/N-XX-nope", headers=SERVICE.as_("reviewer"))
    many = SERVICE.client.post("/api/v1/notices/approve", json={"ids": ["N-XX-nope"]}, headers=SERVICE.as_("reviewer"))
    assert one.status_code == 404 and one.json()["code"] == "notice.not_found" and one.json()["params"] == {"notice_id": "N-XX-nope"}
    assert many.json()["refused"] == [{"id": "N-XX-nope", "reason": "no notice N-XX-nope", "code": "notice.not_found"}]
    assert database not in one.text + many.text and str(Path(database).parent) not in one.text + many.text


@pytest.mark.parametrize("declared", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_json_body_declared_as_something_else_is_a_415_on_every_json_route(declared: str | None) -> None:
    for path in ("/api/v1/tokens", "/api/v1/notices/build", "/api/v1/screenings"):
        headers = {**SERVICE.as_("admin"), **({"Content-Type": declared} if declared else {})}
        answer = SERVICE.client.post(path, content=b'{"name": "x"}', headers=headers)
        assert answer.status_code == 415 and answer.json()["code"] == "request.unsupported_media_type", (path, answer.text)
