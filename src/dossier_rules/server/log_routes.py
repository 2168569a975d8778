"""API routes of the screening log as a transparency log: the signed checkpoint, the public key, and proofs.

What a witness needs (the newest checkpoint, the log's public key, a
consistency proof between two tree sizes) is public, as in certificate
transparency: it is a count of entries and hashes, nothing about a dossier or
a person, and a witness should need no account on the service it watches.
An inclusion proof (the receipt of one entry) needs an account of any role.
Every answer is small and bounded: a proof holds at most 64 hashes. A log
that lost entries its newest checkpoint covers is not signed again (409).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from ..services import screening_log
from ..transparency.checkpoints import SigningKey, read_unverified
from .auth import Principal, require
from .contract import refusals

router = APIRouter(prefix="/api/v1/log", tags=["screening log"])
NO_STORE = {"Cache-Control": "no-store"}


def text(description: str, headers: dict[str, Any] | None = None) -> dict[int | str, dict[str, Any]]:
    """A 200 answered as plain text (a signed note, a key)."""
    return {200: {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}, **({"headers": headers} if headers else {})}}


class _LogAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InclusionProof(_LogAnswer):
    """The receipt of one entry: that leaf ``leaf_index`` is in the tree of ``tree_size`` entries."""

    entry: int = Field(description="The entry's number (leaf index + 1)")
    leaf_index: int
    leaf_hash: str = Field(description="Hex SHA-256 of the leaf")
    tree_size: int
    inclusion_proof: list[str] = Field(description="Hex hashes, at most 64")
    checkpoint: str | None = Field(default=None, description="The signed checkpoint proved against; absent when `tree_size` was given")


class ConsistencyProof(_LogAnswer):
    """That the tree of ``first`` entries is a prefix of the tree of ``second``."""

    first: int
    second: int
    proof: list[str] = Field(description="Hex hashes, at most 64")
    checkpoint: str | None = Field(default=None, description="The signed checkpoint of `second`; absent when `second` was given")


def _key(request: Request) -> SigningKey:
    key: SigningKey = request.app.state.log_key
    return key


def _signed(request: Request) -> str:
    """The newest checkpoint, signing one first (a short write) only when the log grew since the last."""
    db = request.app.state.db
    with db.read() as conn:
        note = screening_log.latest_checkpoint(conn)
        head = screening_log.head(conn)
    if note is not None and read_unverified(note).size == (head[0] if head else 0):
        return note
    try:
        with db.write() as conn:
            return screening_log.checkpoint(conn, _key(request))
    except LookupError as exc:
        raise HTTPException(409, str(exc)) from None


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    responses={**text("The signed note", {"Cache-Control": {"description": "`no-store`", "schema": {"type": "string"}}}), **refusals(409)},
)
def checkpoint(request: Request) -> PlainTextResponse:
    """The newest signed checkpoint of the log (signed-note text): what a witness fetches and keeps."""
    return PlainTextResponse(_signed(request), headers=NO_STORE)


@router.get("/public-key", response_class=PlainTextResponse, responses=text("The verifier key, one line"))
def public_key(request: Request) -> PlainTextResponse:
    """The log's verifier key (`<name>+<hash>+<key>`); a witness should get it once, out of band, and compare."""
    return PlainTextResponse(_key(request).verifier.text() + "\n")


@router.get("/proofs/inclusion", response_model=InclusionProof, response_model_exclude_unset=True, responses=refusals(401, 403, 404, 409, 422))
def inclusion(
    request: Request,
    index: int = Query(ge=0, description="The leaf index (entry N is leaf N - 1)."),
    tree_size: int | None = Query(None, ge=1, description="The tree size to prove against; default: the newest checkpoint, returned with the proof."),
    who: Principal = Depends(require("screener")),
) -> dict[str, Any]:
    """The receipt of one entry: leaf index, leaf hash, inclusion proof and the checkpoint (or the given tree size)."""
    note = _signed(request) if tree_size is None else None
    size = read_unverified(note).size if note is not None else tree_size
    assert size is not None
    if index >= size:
        raise HTTPException(404, f"leaf {index} is not in a tree of {size} entries")
    try:
        with request.app.state.db.read() as conn:
            proof = screening_log.inclusion(conn, index, size)
            leaf = screening_log.leaf(conn, index)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    receipt = screening_log.Receipt(index + 1, index, leaf, note or "", size, proof).to_json()
    if note is None:
        del receipt["checkpoint"]
    return receipt


@router.get("/proofs/consistency", response_model=ConsistencyProof, response_model_exclude_unset=True, responses=refusals(404, 409, 422))
def consistency(
    request: Request,
    first: int = Query(ge=0, description="The smaller tree size (the checkpoint a witness kept)."),
    second: int | None = Query(None, ge=0, description="The larger tree size; default: the newest checkpoint, returned with the proof."),
) -> dict[str, Any]:
    """The consistency proof that the tree of `first` entries is a prefix of the tree of `second` (RFC 9162 2.1.4)."""
    note = _signed(request) if second is None else None
    size = read_unverified(note).size if note is not None else second
    assert size is not None
    if first > size:
        raise HTTPException(404, f"no consistency proof from {first} to {size} entries: the first tree must not be larger")
    try:
        with request.app.state.db.read() as conn:
            proof = screening_log.consistency(conn, first, size)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    answer: dict[str, Any] = {"first": first, "second": size, "proof": [p.hex() for p in proof]}
    if note is not None:
        answer["checkpoint"] = note
    return answer
