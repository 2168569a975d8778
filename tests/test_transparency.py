"""The transparency core against published vectors (RFC 6962 trees, Go's signed note) and as properties."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dossier_rules.transparency import merkle
from dossier_rules.transparency.checkpoints import (
    Checkpoint,
    NoteError,
    SigningKey,
    VerifierKey,
    open_checkpoint,
    open_note,
    sign_checkpoint,
)

# The leaves, roots and proofs of Certificate Transparency's and Trillian's reference tests (RFC 6962 hashing).
LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [  # (leaf index, tree size, proof)
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [  # (first size, second size, proof)
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
# golang.org/x/mod/sumdb/note's documented example key and note.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"

TREE = merkle.MemoryTree([merkle.leaf_hash(leaf) for leaf in LEAVES])


def _hexes(proof: list[bytes]) -> list[str]:
    return [p.hex() for p in proof]


def test_roots_match_the_reference_for_every_size() -> None:
    assert merkle.root(0, TREE.node) == merkle.EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert [TREE.root(n).hex() for n in range(1, 9)] == ROOTS


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_the_reference(index: int, size: int, proof: list[str]) -> None:
    made = merkle.inclusion_proof(index, size, TREE.node)
    assert _hexes(made) == proof
    root = bytes.fromhex(ROOTS[size - 1])
    assert merkle.verify_inclusion(index, size, TREE.leaves[index], made, root)
    assert not merkle.verify_inclusion(index ^ 1, size, TREE.leaves[index], made, root)
    assert not merkle.verify_inclusion(index, size, TREE.leaves[index], [*made, root], root)


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY)
def test_consistency_proofs_match_the_reference(first: int, second: int, proof: list[str]) -> None:
    made = merkle.consistency_proof(first, second, TREE.node)
    assert _hexes(made) == proof
    old, new = bytes.fromhex(ROOTS[first - 1]), bytes.fromhex(ROOTS[second - 1])
    assert merkle.verify_consistency(first, second, old, new, made)
    assert not merkle.verify_consistency(first, second, new, old, made)
    assert not merkle.verify_consistency(first, second, old, new, made[:-1])


def test_trivial_consistency_cases_follow_rfc_9162() -> None:
    root = bytes.fromhex(ROOTS[0])
    assert merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, root, [])
    assert merkle.verify_consistency(3, 3, root, root, [])
    assert not merkle.verify_consistency(3, 3, root, merkle.EMPTY_ROOT, [])
    assert not merkle.verify_consistency(3, 3, root, root, [root])
    assert not merkle.verify_consistency(4, 3, root, root, [])
    assert not merkle.verify_consistency(2, 3, root, root, [])


def test_frontier_grows_the_same_roots_and_nodes_as_the_whole_tree() -> None:
    frontier = merkle.Frontier()
    for size, leaf in enumerate(TREE.leaves, 1):
        for level, index, digest in frontier.append(leaf):
            assert TREE.node(level, index) == digest
        assert frontier.root().hex() == ROOTS[size - 1]
    edge = [TREE.node(level, index) for level, index in merkle.decomposition(7)]
    assert merkle.Frontier(7, edge).root().hex() == ROOTS[6]
    with pytest.raises(ValueError, match="edge hashes"):
        merkle.Frontier(7, edge[:1])


@st.composite
def trees(draw: st.DrawFn) -> merkle.MemoryTree:
    size = draw(st.integers(1, 70))
    return merkle.MemoryTree([merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(size)])


def _flip(proof: list[bytes], which: int, bit: int) -> list[bytes]:
    changed = list(proof)
    item = bytearray(changed[which])
    item[bit // 8] ^= 1 << (bit % 8)
    changed[which] = bytes(item)
    return changed


@settings(max_examples=150, deadline=None)
@given(tree=trees(), data=st.data())
def test_every_inclusion_proof_verifies_and_any_change_fails(tree: merkle.MemoryTree, data: st.DataObject) -> None:
    size = data.draw(st.integers(1, len(tree.leaves)))
    index = data.draw(st.integers(0, size - 1))
    proof = merkle.inclusion_proof(index, size, tree.node)
    root = tree.root(size)
    assert merkle.verify_inclusion(index, size, tree.leaves[index], proof, root)
    other = data.draw(st.integers(0, size - 1))
    if other != index:
        assert not merkle.verify_inclusion(other, size, tree.leaves[index], proof, root)
        assert not merkle.verify_inclusion(index, size, tree.leaves[other], proof, root)
    if proof:
        which = data.draw(st.integers(0, len(proof) - 1))
        assert not merkle.verify_inclusion(index, size, tree.leaves[index], _flip(proof, which, data.draw(st.integers(0, 255))), root)
        assert not merkle.verify_inclusion(index, size, tree.leaves[index], proof[:-1], root)
    assert not merkle.verify_inclusion(index, size, tree.leaves[index], [*proof, root], root)


@settings(max_examples=150, deadline=None)
@given(tree=trees(), data=st.data())
def test_every_consistency_proof_verifies_and_any_change_fails(tree: merkle.MemoryTree, data: st.DataObject) -> None:
    second = data.draw(st.integers(1, len(tree.leaves)))
    first = data.draw(st.integers(1, second))
    proof = merkle.consistency_proof(first, second, tree.node)
    old, new = tree.root(first), tree.root(second)
    assert merkle.verify_consistency(first, second, old, new, proof)
    if first == second:
        return
    which = data.draw(st.integers(0, len(proof) - 1))
    assert not merkle.verify_consistency(first, second, old, new, _flip(proof, which, data.draw(st.integers(0, 255))))
    assert not merkle.verify_consistency(first, second, old, merkle.leaf_hash(b"rewritten"), proof)
    assert not merkle.verify_consistency(first, second, merkle.leaf_hash(b"rewritten"), new, proof)
    assert not merkle.verify_consistency(first, second, old, new, proof[:-1])
    if first > 1:
        assert not merkle.verify_consistency(first - 1, second, old, new, proof)


def test_signing_matches_go_sumdb_note_byte_for_byte() -> None:
    key = SigningKey.parse(GO_SIGNER)
    assert key.verifier.text() == GO_VERIFIER and key.text() == GO_SIGNER
    assert key.sign(GO_TEXT) == GO_NOTE
    assert open_note(GO_NOTE, VerifierKey.parse(GO_VERIFIER)) == GO_TEXT


def test_a_note_altered_or_signed_by_another_key_does_not_open() -> None:
    verifier = VerifierKey.parse(GO_VERIFIER)
    with pytest.raises(NoteError, match="altered or forged"):
        open_note(GO_NOTE.replace("problem,", "problems,"), verifier)
    other = SigningKey.generate("PeterNeumann")
    with pytest.raises(NoteError, match="not signed by the key"):
        open_note(other.sign(GO_TEXT), verifier)
    with pytest.raises(NoteError, match="no signature lines"):
        open_note(GO_TEXT, verifier)
    with pytest.raises(NoteError, match="hash does not match"):
        VerifierKey.parse(GO_VERIFIER.replace("c74f20a3", "c74f20a4"))


def test_checkpoints_round_trip_and_are_bound_to_their_origin() -> None:
    key = SigningKey.generate("example.org/screening-log")
    note = sign_checkpoint(key, 8, bytes.fromhex(ROOTS[7]), "2026-12-06T00:00:00Z")
    lines = note.split("\n")
    assert lines[:4] == ["example.org/screening-log", "8", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "time 2026-12-06T00:00:00Z"]
    opened = open_checkpoint(note, key.verifier)
    assert (opened.size, opened.root.hex(), opened.time) == (8, ROOTS[7], "2026-12-06T00:00:00Z")
    stranger = SigningKey.generate("example.org/other")
    with pytest.raises(NoteError, match="not signed by the key"):
        open_checkpoint(note, stranger.verifier)
    forged = stranger.sign(Checkpoint("example.org/other", 8, bytes(32)).text().replace("example.org/other", "example.org/screening-log"))
    with pytest.raises(NoteError):
        open_checkpoint(forged, key.verifier)
    with pytest.raises(NoteError, match="tree size"):
        Checkpoint.parse("origin\n08\nAAAA\n")
