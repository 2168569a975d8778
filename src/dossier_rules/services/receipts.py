"""Receipts of the screening log: what a client keeps to prove later that its screening, approval or export was logged.

A receipt is the entry's position, its leaf hash, a checkpoint the service
signed that includes it, and the inclusion proof (RFC 9162); a client checks
it offline with ``dossier-rules log check-receipt`` and the log's public key.
The API gives it in the body of a screening and, for notice changes whose body
is the notice or its document, in the ``Log-Receipt`` header (base64url of its
JSON, one line).
"""

from __future__ import annotations

import base64
from typing import Any

import orjson

from ..storage import Database
from ..transparency.checkpoints import SigningKey
from . import screening_log

HEADER = "Log-Receipt"
"""The response header carrying a notice change's receipt."""


def issue(db: Database, key: SigningKey, seq: int) -> dict[str, Any]:
    """The receipt of log entry ``seq``, signing a checkpoint that covers it if the newest does not (a short write)."""
    with db.write() as conn:
        return screening_log.receipt(conn, seq, key).to_json()


def header_value(receipt: dict[str, Any]) -> str:
    """A receipt as one header line: base64url (no padding) of its compact JSON."""
    return base64.urlsafe_b64encode(orjson.dumps(receipt)).rstrip(b"=").decode("ascii")
