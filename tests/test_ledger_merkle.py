"""audit.merkle against published RFC 6962 / RFC 9162 test vectors and an independent,
deliberately naive implementation of the RFC's recursive definitions.

No database: plain functions over bytes.
"""

import hashlib

import pytest

from ledger import merkle

# ---------------------------------------------------------------------------------------------
# Published vectors.
#
# Leaves, roots, stored subtree nodes and compact ranges:
#   github.com/transparency-dev/merkle  testonly/constants.go
#   (LeafInputs, NodeHashes, RootHashes, CompactTrees, EmptyRootHash; commit 582a6ad1)
# Inclusion proofs ("paths") and consistency proofs:
#   github.com/transparency-dev/merkle  proof/verify_test.go  (inclusionProofs, consistencyProofs;
#   commit 02194e9a), identical to kSHA256Paths / kSHA256Proofs / kSHA256Roots in
#   github.com/google/certificate-transparency  cpp/merkletree/merkle_tree_test.cc.
# Both give leaf numbers 1-based ({leaf, size}); below they are converted to 0-based indices.
# ---------------------------------------------------------------------------------------------

LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]

EMPTY_ROOT = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

# ROOTS[n] is the root of the tree over LEAVES[:n].
ROOTS = {
    0: EMPTY_ROOT,
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

# NODES[level][index]: complete subtrees over LEAVES (testonly.NodeHashes).
NODES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    [
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ],
]

# testonly.CompactTrees: the compact range (left to right) after n leaves, as (level, index).
COMPACT = {
    1: [(0, 0)],
    2: [(1, 0)],
    3: [(1, 0), (0, 2)],
    4: [(2, 0)],
    5: [(2, 0), (0, 4)],
    6: [(2, 0), (1, 2)],
    7: [(2, 0), (1, 2), (0, 6)],
    8: [(3, 0)],
}

# (leaf index 0-based, tree size, proof); the sources write {leaf + 1, size, proof}.
INCLUSION = [
    (0, 1, []),
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

# (first size, second size, proof)
CONSISTENCY = [
    (1, 1, []),
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
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def h(hexes):
    return [bytes.fromhex(x) for x in hexes]


# ---------------------------------------------------------------------------------------------
# An independent implementation, written straight from RFC 9162 section 2.1 over plain lists of
# leaf inputs D[0:n]. Naive on purpose (recomputes every subtree) and sharing nothing with
# audit.merkle, not even the hash helpers.
# ---------------------------------------------------------------------------------------------


def ref_hash(data):
    return hashlib.sha256(data).digest()


def ref_k(n):
    """The largest power of two smaller than n (RFC 9162 2.1.1), n > 1."""
    k = 1
    while 2 * k < n:
        k *= 2
    return k


def ref_mth(d):
    """MTH(D[n]) of RFC 9162 2.1.1."""
    n = len(d)
    if n == 0:
        return ref_hash(b"")
    if n == 1:
        return ref_hash(b"\x00" + d[0])
    k = ref_k(n)
    return ref_hash(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m, d):
    """PATH(m, D[n]) of RFC 9162 2.1.3.1."""
    n = len(d)
    if n == 1:
        return []
    k = ref_k(n)
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def ref_subproof(m, d, b):
    """SUBPROOF(m, D[n], b) of RFC 9162 2.1.4.1."""
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = ref_k(n)
    if m <= k:
        return ref_subproof(m, d[:k], b) + [ref_mth(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


def ref_proof(m, d):
    """PROOF(m, D[n]) of RFC 9162 2.1.4.1."""
    return ref_subproof(m, d, True)


# ---------------------------------------------------------------------------------------------
# Helpers: the stored-node API as the ledger uses it.
# ---------------------------------------------------------------------------------------------


def build_store(leaves):
    """Append leaves one by one with merkle.new_nodes, as ledger_append does."""
    store = {}
    for index, data in enumerate(leaves):
        leaf = merkle.leaf_hash(data)
        for level, position, digest in merkle.new_nodes(index, leaf, lambda lv, p: store[(lv, p)]):
            assert (level, position) not in store, "a node is written once"
            store[(level, position)] = digest
    return store


def reader(store, limit=None):
    """A node lookup that refuses nodes a tree of ``limit`` leaves could not have stored."""

    def node(level, index):
        if limit is not None:
            assert (index + 1) << level <= limit, f"read node {level}/{index} beyond size {limit}"
        return store[(level, index)]

    return node


VECTOR_STORE = build_store(LEAVES)


# ---------------------------------------------------------------------------------------------
# Vectors
# ---------------------------------------------------------------------------------------------


def test_hashing_primitives():
    assert merkle.EMPTY_ROOT.hex() == EMPTY_ROOT
    assert merkle.leaf_hash(b"").hex() == NODES[0][0]
    assert merkle.node_hash(merkle.leaf_hash(b""), merkle.leaf_hash(b"\x00")).hex() == ROOTS[2]


def test_stored_nodes_are_the_published_node_hashes():
    expected = {
        (level, index): bytes.fromhex(value)
        for level, row in enumerate(NODES)
        for index, value in enumerate(row)
    }
    assert expected == VECTOR_STORE


@pytest.mark.parametrize("size", range(0, 9))
def test_roots_from_stored_nodes(size):
    store = build_store(LEAVES[:size])
    assert merkle.root(reader(store, size), size).hex() == ROOTS[size]
    # The full store answers for any earlier size without reading newer nodes.
    assert merkle.root(reader(VECTOR_STORE, size), size).hex() == ROOTS[size]
    assert ref_mth(LEAVES[:size]).hex() == ROOTS[size]


def test_compact_range_matches_vectors():
    compact = merkle.CompactRange()
    assert compact.root().hex() == EMPTY_ROOT
    for size, data in enumerate(LEAVES, start=1):
        edge = compact.append(merkle.leaf_hash(data))
        assert compact.size == size
        assert compact.root().hex() == ROOTS[size]
        assert edge == [(lv, bytes.fromhex(NODES[lv][i])) for lv, i in COMPACT[size]]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_vectors(index, size, proof):
    proof = h(proof)
    root = bytes.fromhex(ROOTS[size])
    leaf = merkle.leaf_hash(LEAVES[index])
    assert merkle.inclusion_proof(reader(VECTOR_STORE, size), index, size) == proof
    assert ref_path(index, LEAVES[:size]) == proof
    assert merkle.verify_inclusion(leaf, index, size, proof, root)


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY)
def test_consistency_vectors(first, second, proof):
    proof = h(proof)
    first_root, second_root = bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second])
    assert merkle.consistency_proof(reader(VECTOR_STORE, second), first, second) == proof
    assert ref_proof(first, LEAVES[:second]) == proof
    assert merkle.verify_consistency(first, second, proof, first_root, second_root)


def inclusion_probes(index, size, proof, root, leaf):
    """Wrong inputs in the manner of transparency-dev/merkle's corruptInclusionProof."""
    probes = [
        ("index + 1", index + 1, size, proof, root, leaf),
        ("index ^ 2", index ^ 2, size, proof, root, leaf),
        ("size * 2", index, size * 2, proof, root, leaf),
        ("size // 2", index, size // 2, proof, root, leaf),
        ("wrong leaf", index, size, proof, root, merkle.leaf_hash(b"WrongLeaf")),
        ("empty root", index, size, proof, merkle.EMPTY_ROOT, leaf),
        ("random root", index, size, proof, SOME_HASH, leaf),
        ("trailing garbage", index, size, [*proof, b""], root, leaf),
        ("trailing root", index, size, [*proof, root], root, leaf),
        ("preceding garbage", index, size, [b"", *proof], root, leaf),
        ("preceding root", index, size, [root, *proof], root, leaf),
    ]
    if index > 0:  # negative indices: see test_verify_refuses_negative_indices
        probes.append(("index - 1", index - 1, size, proof, root, leaf))
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 8]) + bad[i][1:]
        probes.append((f"proof[{i}] bit flipped", index, size, bad, root, leaf))
    if proof:
        probes.append(("removed component", index, size, proof[:-1], root, leaf))
    if len(proof) > 1:
        probes.append(
            ("inserted component", index, size, [proof[0], SOME_HASH, *proof[1:]], root, leaf)
        )
    return probes


def consistency_probes(first, second, proof, first_root, second_root):
    """Wrong inputs in the manner of transparency-dev/merkle's corruptConsistencyProof."""
    probes = [
        ("first - 1", first - 1, second, proof, first_root, second_root),
        ("first + 1", first + 1, second, proof, first_root, second_root),
        ("first ^ 2", first ^ 2, second, proof, first_root, second_root),
        ("second * 2", first, second * 2, proof, first_root, second_root),
        ("second // 2", first, second // 2, proof, first_root, second_root),
        ("wrong first root", first, second, proof, b"WrongRoot", second_root),
        ("wrong second root", first, second, proof, first_root, b"WrongRoot"),
        ("swapped roots", first, second, proof, second_root, first_root),
        ("empty proof", first, second, [], first_root, second_root),
        ("trailing garbage", first, second, [*proof, b""], first_root, second_root),
        ("trailing first root", first, second, [*proof, first_root], first_root, second_root),
        ("trailing second root", first, second, [*proof, second_root], first_root, second_root),
        ("preceding garbage", first, second, [b"", *proof], first_root, second_root),
        ("preceding first root", first, second, [first_root, *proof], first_root, second_root),
        ("preceding second root", first, second, [second_root, *proof], first_root, second_root),
        ("preceding proof[0]", first, second, [proof[0], *proof], first_root, second_root),
        ("truncated proof", first, second, proof[:-1], first_root, second_root),
    ]
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 16]) + bad[i][1:]
        probes.append((f"proof[{i}] bit flipped", first, second, bad, first_root, second_root))
    return probes


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_vectors_tampered(index, size, proof):
    proof = h(proof)
    root = bytes.fromhex(ROOTS[size])
    leaf = merkle.leaf_hash(LEAVES[index])
    accepted = [
        desc
        for desc, i, n, p, r, lf in inclusion_probes(index, size, proof, root, leaf)
        if merkle.verify_inclusion(lf, i, n, p, r)
    ]
    assert accepted == []


@pytest.mark.parametrize(("first", "second", "proof"), [c for c in CONSISTENCY if c[2]])
def test_consistency_vectors_tampered(first, second, proof):
    proof = h(proof)
    first_root, second_root = bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second])
    accepted = [
        desc
        for desc, m, n, p, r1, r2 in consistency_probes(
            first, second, proof, first_root, second_root
        )
        if merkle.verify_consistency(m, n, p, r1, r2)
    ]
    assert accepted == []


def test_degenerate_verifications():
    """The edge cases of the verify tests of both reference implementations."""
    leaf = merkle.leaf_hash(b"data")
    # A one-leaf tree: the root is the leaf hash, the proof is empty.
    assert merkle.verify_inclusion(leaf, 0, 1, [], leaf)
    assert not merkle.verify_inclusion(leaf, 0, 1, [], b"")
    assert not merkle.verify_inclusion(b"", 0, 1, [], leaf)
    for index, size in [(0, 0), (1, 0), (1, 1), (2, 1)]:
        assert not merkle.verify_inclusion(SOME_HASH, index, size, [], merkle.EMPTY_ROOT)
        assert not merkle.verify_inclusion(SOME_HASH, index, size, [], SOME_HASH)
    r1, r2 = merkle.EMPTY_ROOT, SOME_HASH
    assert merkle.verify_consistency(1, 1, [], r2, r2)
    assert not merkle.verify_consistency(1, 1, [], r1, r2)  # same size, different roots
    assert not merkle.verify_consistency(1, 1, [r1], r1, r1)  # same size, non-empty proof
    assert not merkle.verify_consistency(1, 0, [], r1, r2)  # back in time
    assert not merkle.verify_consistency(2, 1, [], r1, r2)
    assert not merkle.verify_consistency(1, 2, [], r1, r2)  # empty proof
    with pytest.raises(ValueError):
        merkle.inclusion_proof(reader(VECTOR_STORE), 8, 8)
    with pytest.raises(ValueError):
        merkle.inclusion_proof(reader(VECTOR_STORE), -1, 8)
    with pytest.raises(ValueError):
        merkle.consistency_proof(reader(VECTOR_STORE), 0, 8)
    with pytest.raises(ValueError):
        merkle.consistency_proof(reader(VECTOR_STORE), 5, 4)


def test_verify_refuses_negative_indices():
    """Python ints do not wrap like the RFC's unsigned ones: a negative index must not walk the
    path of a real one (it did before verify_* checked their bounds)."""
    leaf = merkle.leaf_hash(LEAVES[0])
    root1 = bytes.fromhex(ROOTS[1])
    accepted = []
    if merkle.verify_inclusion(leaf, -1, 1, [], root1):
        accepted.append("inclusion of index -1 in a tree of size 1")
    # Every x with x = 0 (mod 2) walks the same path as index 0 in a tree of 2.
    proof = [merkle.leaf_hash(LEAVES[1])]
    if merkle.verify_inclusion(leaf, -2, 2, proof, bytes.fromhex(ROOTS[2])):
        accepted.append("inclusion of index -2 in a tree of size 2")
    store = build_store(DATA[:4])
    proof = merkle.consistency_proof(reader(store), 3, 4)
    if merkle.verify_consistency(-5, 4, proof, REF_ROOTS[3], REF_ROOTS[4]):
        accepted.append("consistency from size -5 to size 4 (with the proof for 3 -> 4)")
    assert accepted == []


# ---------------------------------------------------------------------------------------------
# Full agreement with the independent implementation up to 70 leaves.
# ---------------------------------------------------------------------------------------------

N = 70
DATA = [bytes([i]) * (i % 7) + b"govshare" * (i % 3) for i in range(N)]
STORE = build_store(DATA)
REF_ROOTS = [ref_mth(DATA[:n]) for n in range(N + 1)]


def test_agreement_roots_and_compact_range():
    compact = merkle.CompactRange()
    assert compact.root() == REF_ROOTS[0] == merkle.root(reader(STORE, 0), 0)
    for n in range(1, N + 1):
        edge = compact.append(merkle.leaf_hash(DATA[n - 1]))
        assert merkle.root(reader(STORE, n), n) == REF_ROOTS[n], n
        assert merkle.root(reader(build_store(DATA[:n]), n), n) == REF_ROOTS[n], n
        assert compact.root() == REF_ROOTS[n], n
        # The compact range holds one complete subtree per set bit of n, largest first.
        assert [lv for lv, _h in edge] == [b for b in reversed(range(n.bit_length())) if n >> b & 1]


@pytest.mark.parametrize("size", range(1, N + 1))
def test_agreement_inclusion(size):
    node = reader(STORE, size)
    root = REF_ROOTS[size]
    for index in range(size):
        proof = merkle.inclusion_proof(node, index, size)
        assert proof == ref_path(index, DATA[:size]), (index, size)
        leaf = merkle.leaf_hash(DATA[index])
        assert merkle.verify_inclusion(leaf, index, size, proof, root), (index, size)
        for desc, i, n, p, r, lf in inclusion_probes(index, size, proof, root, leaf):
            assert not merkle.verify_inclusion(lf, i, n, p, r), (index, size, desc)


@pytest.mark.parametrize("second", range(1, N + 1))
def test_agreement_consistency(second):
    node = reader(STORE, second)
    second_root = REF_ROOTS[second]
    for first in range(1, second + 1):
        proof = merkle.consistency_proof(node, first, second)
        assert proof == ref_proof(first, DATA[:second]), (first, second)
        first_root = REF_ROOTS[first]
        assert merkle.verify_consistency(first, second, proof, first_root, second_root)
        if not proof:
            continue
        for desc, m, n, p, r1, r2 in consistency_probes(
            first, second, proof, first_root, second_root
        ):
            assert not merkle.verify_consistency(m, n, p, r1, r2), (first, second, desc)
        # A different history for the first tree is refused.
        other = ref_mth([*DATA[: first - 1], b"rewritten"])
        assert not merkle.verify_consistency(first, second, proof, other, second_root)
