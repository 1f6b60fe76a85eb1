"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing and proofs.

Pure functions over a ``node(level, index)`` lookup, where node (level, index) is the hash of the
complete, aligned subtree over leaves ``[index * 2**level, (index + 1) * 2**level)``. The ledger
stores exactly those nodes as entries are appended, so a root or proof for any tree size needs
O(log n) stored hashes and never a scan of the leaves.

The verification functions take only hashes and are shared with the standalone verifier's logic
(``tools/govshare_verify.py`` repeats them with the standard library only).
"""

import hashlib
from collections.abc import Callable, Sequence

# ``node(level, index)``: the hash of one aligned complete subtree.
NodeLookup = Callable[[int, int], bytes]


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def range_hash(node: NodeLookup, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a range that starts on a boundary of its left split (RFC 9162 2.1.1).

    Every range the RFC algorithms recurse into has this form; aligned powers of two are read
    from ``node``, the rest is combined on the way up.
    """
    size = end - start
    if size & (size - 1) == 0 and start % size == 0:
        return node(size.bit_length() - 1, start // size)
    k = _split(size)
    return node_hash(range_hash(node, start, start + k), range_hash(node, start + k, end))


def root(node: NodeLookup, tree_size: int) -> bytes:
    if tree_size == 0:
        return EMPTY_ROOT
    return range_hash(node, 0, tree_size)


def inclusion_proof(node: NodeLookup, index: int, tree_size: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1, leaf-side first."""
    if not 0 <= index < tree_size:
        raise ValueError("index outside the tree")

    def path(m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = _split(n)
        if m < k:
            return [*path(m, start, start + k), range_hash(node, start + k, end)]
        return [*path(m - k, start + k, end), range_hash(node, start, start + k)]

    return path(index, 0, tree_size)


def consistency_proof(node: NodeLookup, first: int, second: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 2.1.4.1."""
    if not 0 < first <= second:
        raise ValueError("need 0 < first <= second")
    if first == second:
        return []

    def subproof(m: int, start: int, end: int, complete: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if complete else [range_hash(node, start, end)]
        k = _split(n)
        if m <= k:
            return [*subproof(m, start, start + k, complete), range_hash(node, start + k, end)]
        return [*subproof(m - k, start + k, end, False), range_hash(node, start, start + k)]

    return subproof(first, 0, second, True)


def verify_inclusion(
    leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 2.1.3.2."""
    if not 0 <= index < tree_size:
        return False  # Python ints do not wrap like the RFC's unsigned ones
    fn, sn, r = index, tree_size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(
    first: int, second: int, proof: Sequence[bytes], first_root: bytes, second_root: bytes
) -> bool:
    """RFC 9162 2.1.4.2."""
    if first < 0 or second < 0:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0 or first > second or not proof:
        return False
    if first & (first - 1) == 0:
        proof = [first_root, *proof]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


class CompactRange:
    """The right edge of a growing tree: append leaves in order, read the root at any time.

    Holds O(log n) hashes, so verification streams over a million entries in constant memory.
    """

    def __init__(self) -> None:
        self.size = 0
        # (level, hash) of complete subtrees, left to right
        self._stack: list[tuple[int, bytes]] = []

    def append(self, leaf: bytes) -> list[tuple[int, bytes]]:
        """Add the next leaf; returns the right edge: ``[(level, hash)]``, largest first."""
        self.append_completing(leaf)
        return list(self._stack)

    def append_completing(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add the next leaf; returns the inner nodes it completes as ``[(level, index, hash)]``
        (the nodes ``new_nodes`` stores, without the leaf itself)."""
        level, current = 0, leaf
        size, position = self.size, self.size
        completed: list[tuple[int, int, bytes]] = []
        while size & 1:
            _lvl, left = self._stack.pop()
            current = node_hash(left, current)
            level += 1
            size >>= 1
            position >>= 1
            completed.append((level, position, current))
        self._stack.append((level, current))
        self.size += 1
        return completed

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        current = self._stack[-1][1]
        for _lvl, left in reversed(self._stack[:-1]):
            current = node_hash(left, current)
        return current


def new_nodes(index: int, leaf: bytes, node: NodeLookup) -> list[tuple[int, int, bytes]]:
    """The stored nodes created by appending leaf ``index``: (0, index) and every subtree it
    completes, as ``[(level, index, hash), ...]``."""
    created = [(0, index, leaf)]
    level, position, current = 0, index, leaf
    while position & 1:
        left = node(level, position - 1)
        current = node_hash(left, current)
        level += 1
        position >>= 1
        created.append((level, position, current))
    return created
