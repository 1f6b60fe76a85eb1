"""``ledger_verify``: recompute the whole tree from the stored entries and check everything.

Streams the entries in index order with O(log n) memory: each entry's bytes against its leaf
hash, its stored node and the index written inside it; gaps, insertions and reordering; every
checkpoint's signature, its root against the recomputed tree, and consistency between successive
checkpoints. Reports the first wrong index.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import QuerySet

from ledger import keys, merkle, signing
from ledger.models import LedgerCheckpoint, LedgerEntry, LedgerNode, LedgerState


@dataclass
class VerifyReport:
    entries: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)
    first_bad_index: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def bad(self, index: int | None, message: str) -> None:
        if index is not None and (self.first_bad_index is None or index < self.first_bad_index):
            self.first_bad_index = index
        self.problems.append(message)


def _level0_nodes() -> QuerySet[LedgerNode, tuple[int, bytes | memoryview]]:
    return LedgerNode.objects.filter(level=0).order_by("index").values_list("index", "hash")


def _check_inner_nodes(recomputed: Iterable[tuple[int, int, bytes]], report: VerifyReport) -> bool:
    """Compare recomputed inner nodes with the stored ones (which proofs are served from), a
    level at a time over the range they cover; report the first leaf under a bad node."""
    by_level: dict[int, dict[int, bytes]] = {}
    for level, position, digest in recomputed:
        by_level.setdefault(level, {})[position] = digest
    first_bad: tuple[int, int, int] | None = None
    for level, wanted in by_level.items():
        stored = dict(
            LedgerNode.objects.filter(
                level=level, index__gte=min(wanted), index__lte=max(wanted)
            ).values_list("index", "hash")
        )
        for position, digest in wanted.items():
            if bytes(stored.get(position, b"")) != digest:
                leaf = position << level
                if first_bad is None or leaf < first_bad[0]:
                    first_bad = (leaf, level, position)
    if first_bad is None:
        return False
    leaf, level, position = first_bad
    report.bad(
        leaf,
        f"index {leaf}: the stored tree node (level {level}, position {position}) over this "
        "entry does not match the entries (proofs would be wrong)",
    )
    return True


def sizes_beyond(checkpoints: Iterable[int], stored: int) -> list[int]:
    return sorted(size for size in checkpoints if size > stored)


def ledger_verify(*, chunk: int = 5000) -> VerifyReport:
    """Check the whole ledger (see the module docstring); every problem and the first bad index.

    It is one function on purpose: one streaming pass over the entries in index order that must
    see every level of the tree at once. The compact range, the batch of recomputed inner nodes,
    the expected index and the ``broken`` flag are the state of that single pass; each leaf's
    check decides whether the inner nodes above it and the checkpoints after it are checked at
    all, so split into pieces that state would be threaded through every entry.
    """
    # Checkpoints first, then the size: every checkpoint read was signed over a size the state
    # had reached, so one larger than the size read next means entries were removed; appends
    # landing while we verify are simply beyond the size we check.
    signed_rows = list(LedgerCheckpoint.objects.order_by("tree_size"))
    state = LedgerState.objects.filter(pk=1).first()
    size = state.size if state else 0
    report = VerifyReport()
    verifier = keys.verifier_key()
    checkpoints: dict[int, bytes] = {}  # signed size -> signed root
    for checkpoint in signed_rows:
        report.checkpoints += 1
        try:
            text = signing.open_note(checkpoint.note, verifier)
            _origin, signed_size, root = signing.parse_checkpoint(text)
        except ValueError as exc:
            report.bad(None, f"checkpoint {checkpoint.tree_size}: signature invalid ({exc})")
            continue
        if signed_size != checkpoint.tree_size or root != bytes(checkpoint.root_hash):
            report.bad(None, f"checkpoint {checkpoint.tree_size}: note and stored row disagree")
            continue
        checkpoints[signed_size] = root

    nodes = _level0_nodes().filter(index__lt=size).iterator(chunk_size=chunk)
    compact = merkle.CompactRange()
    # Inner nodes recomputed since the last comparison with the stored ones.
    inner: list[tuple[int, int, bytes]] = []
    expected = 0
    broken = False
    rows = (
        LedgerEntry.objects.filter(index__lt=size)
        .order_by("index")
        .values_list("index", "entry", "leaf_hash")
    )
    for index, data, stored_leaf in rows.iterator(chunk_size=chunk):
        report.entries += 1
        if broken:
            continue
        data = bytes(data)
        if index != expected:
            what = "missing (removed)" if index > expected else "duplicated"
            report.bad(expected, f"index {expected}: entry {what}; next stored index is {index}")
            broken = True
            continue
        leaf = merkle.leaf_hash(data)
        node_index, node_hash = next(nodes, (None, None))
        try:
            record = json.loads(data)
            claimed = record.get("index") if isinstance(record, dict) else None
        except ValueError:
            claimed = None
        if leaf != bytes(stored_leaf):
            report.bad(index, f"index {index}: entry bytes changed (leaf hash differs)")
            broken = True
        # node_hash is None only past the last stored node, where node_index (None) != index.
        elif node_index != index or leaf != bytes(node_hash):  # type: ignore[arg-type]
            report.bad(
                index, f"index {index}: entry does not match the tree (inserted or replaced)"
            )
            broken = True
        elif claimed != index:
            report.bad(index, f"index {index}: entry records index {claimed} (moved or reordered)")
            broken = True
        if broken:
            continue
        inner.extend(compact.append_completing(leaf))
        expected += 1
        if len(inner) >= chunk:
            broken = _check_inner_nodes(inner, report)
            inner.clear()
            if broken:
                continue
        if expected in checkpoints and compact.root() != checkpoints[expected]:
            report.bad(
                index,
                f"checkpoint {expected}: signed root does not match the entries "
                f"(entries before index {expected} were rewritten)",
            )
            broken = True
    if not broken and inner:
        broken = _check_inner_nodes(inner, report)
    for signed_size in [] if broken else sizes_beyond(checkpoints, expected):
        report.bad(
            expected,
            f"checkpoint {signed_size}: signs {signed_size} entries but "
            f"only {expected} are stored (entries removed from the end)",
        )
    if not broken and expected != size:
        report.bad(
            expected, f"index {expected}: the ledger records {size} entries, found {expected}"
        )
    # Successive checkpoints must be consistent (checked with stored nodes and signed roots).
    sizes = sorted(checkpoints)
    if report.ok:
        from ledger.services import LedgerInconsistent, consistency_proof

        for old, new in zip(sizes, sizes[1:], strict=False):
            try:
                proof = consistency_proof(old, new)
            except LedgerInconsistent as exc:
                report.bad(None, f"checkpoints {old} → {new}: {exc}")
                continue
            if not merkle.verify_consistency(old, new, proof, checkpoints[old], checkpoints[new]):
                report.bad(None, f"checkpoint {new} is not consistent with checkpoint {old}")
    return report
