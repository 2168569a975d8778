"""RFC 6962 Merkle tree hashing, and RFC 9162 inclusion and consistency proofs.

A tree is never held here: the functions that make proofs ask a ``NodeReader``
for the hash of a complete subtree (``level``, ``index``: the ``2**level``
leaves from ``index * 2**level``), so a store can keep those hashes (the
screening log keeps them in its database) and answer any proof with a
logarithmic number of reads. :class:`Frontier` grows a tree one leaf at a time
in logarithmic memory, which is how an archive of any length is checked
against a checkpoint. The verifying functions follow RFC 9162 section 2.1.3.2
and 2.1.4.2 step by step, so any implementation that agrees with the RFC
agrees with them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the tree of no leaves (RFC 6962 section 2.1)."""

NodeReader = Callable[[int, int], bytes]
"""(level, index) -> the hash of the complete subtree of ``2**level`` leaves starting at leaf ``index * 2**level``."""


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf: SHA-256 of 0x00 then the leaf's bytes (the prefix keeps leaves and nodes apart)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256 of 0x01, the left child's hash, the right child's hash."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (size >= 2): where RFC 6962 splits a tree."""
    return 1 << ((size - 1).bit_length() - 1)


def _complete(start: int, size: int) -> bool:
    return size & (size - 1) == 0 and start % size == 0


def subtree_hash(start: int, end: int, node: NodeReader) -> bytes:
    """MTH of the leaves ``start`` to ``end - 1``: stored complete subtrees, joined as RFC 6962 splits them."""
    size = end - start
    if size == 0:
        return EMPTY_ROOT
    if _complete(start, size):
        level = size.bit_length() - 1
        return node(level, start >> level)
    k = _split(size)
    return node_hash(subtree_hash(start, start + k, node), subtree_hash(start + k, end, node))


def root(size: int, node: NodeReader) -> bytes:
    """The tree head of the first ``size`` leaves."""
    return subtree_hash(0, size, node)


def inclusion_proof(index: int, size: int, node: NodeReader) -> list[bytes]:
    """PATH(index, D[size]) of RFC 6962 section 2.1.1: the siblings from the leaf up to the root."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    return _path(index, 0, size, node)


def _path(index: int, start: int, end: int, node: NodeReader) -> list[bytes]:
    size = end - start
    if size == 1:
        return []
    k = _split(size)
    if index < k:
        return [*_path(index, start, start + k, node), subtree_hash(start + k, end, node)]
    return [*_path(index - k, start + k, end, node), subtree_hash(start, start + k, node)]


def consistency_proof(first: int, second: int, node: NodeReader) -> list[bytes]:
    """PROOF(first, D[second]) of RFC 6962 section 2.1.2: the tree of ``first`` leaves is a prefix of the larger one."""
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from {first} to {second} leaves")
    if first in (0, second):
        return []
    return _subproof(first, 0, second, True, node)


def _subproof(first: int, start: int, end: int, whole: bool, node: NodeReader) -> list[bytes]:
    size = end - start
    if first == size:
        return [] if whole else [subtree_hash(start, end, node)]
    k = _split(size)
    if first <= k:
        return [*_subproof(first, start, start + k, whole, node), subtree_hash(start + k, end, node)]
    return [*_subproof(first - k, start + k, end, False, node), subtree_hash(start, start + k, node)]


def _shift_while_even(fn: int, sn: int) -> tuple[int, int]:
    while fn and not fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes | None:
    """The root an inclusion proof leads to (RFC 9162 section 2.1.3.2), or None when the proof cannot be right."""
    if not 0 <= index < size or len(leaf) != HASH_SIZE or any(len(p) != HASH_SIZE for p in proof):
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = _shift_while_even(fn, sn)
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes) -> bool:
    """Whether ``leaf`` is leaf ``index`` of the tree of ``size`` leaves whose head is ``expected_root``."""
    return root_from_inclusion(index, size, leaf, proof) == expected_root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> bool:
    """Whether the tree of ``first`` leaves is a prefix of the tree of ``second`` (RFC 9162 section 2.1.4.2)."""
    if not 0 <= first <= second or any(len(p) != HASH_SIZE for p in proof):
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    if not proof:
        return False
    path = [first_root, *proof] if first & (first - 1) == 0 else list(proof)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            fn, sn = _shift_while_even(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root


def decomposition(size: int) -> list[tuple[int, int]]:
    """The complete subtrees (level, index) that make up the first ``size`` leaves, largest first."""
    parts, start = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            parts.append((level, start >> level))
            start += 1 << level
    return parts


class Frontier:
    """The right edge of a growing tree: the hashes of :func:`decomposition` of its size, and nothing else.

    Appending a leaf completes the subtrees it closes; :meth:`append` returns
    them so a store can keep every complete subtree for later proofs.
    """

    def __init__(self, size: int = 0, edge: Sequence[bytes] = ()) -> None:
        if len(edge) != bin(size).count("1"):
            raise ValueError(f"a tree of {size} leaves has {bin(size).count('1')} edge hashes, not {len(edge)}")
        self.size = size
        self._edge = list(edge)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; the complete subtrees (level, index, hash) it finishes, the leaf itself first."""
        level, index, current = 0, self.size, leaf
        done = [(0, index, leaf)]
        while index & 1:
            current = node_hash(self._edge.pop(), current)
            level, index = level + 1, index >> 1
            done.append((level, index, current))
        self._edge.append(current)
        self.size += 1
        return done

    def root(self) -> bytes:
        """The tree head of the leaves appended so far."""
        if not self._edge:
            return EMPTY_ROOT
        current = self._edge[-1]
        for left in reversed(self._edge[:-1]):
            current = node_hash(left, current)
        return current


class MemoryTree:
    """A whole tree in memory (tests, small archives): its leaf hashes, and :meth:`node` computed from them."""

    def __init__(self, leaves: Sequence[bytes] = ()) -> None:
        self.leaves = list(leaves)

    def node(self, level: int, index: int) -> bytes:
        start = index << level
        end = start + (1 << level)
        if end > len(self.leaves):
            raise KeyError((level, index))
        if level == 0:
            return self.leaves[start]
        return node_hash(self.node(level - 1, index * 2), self.node(level - 1, index * 2 + 1))

    def root(self, size: int | None = None) -> bytes:
        return root(len(self.leaves) if size is None else size, self.node)
