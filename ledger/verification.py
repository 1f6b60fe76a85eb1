"""``ledger_verify``: recompute the whole tree from the stored entries and check everything.

One streaming pass over the entries in index order, with memory bounded by the chunk size times
the tree's height: each entry's bytes against its leaf hash, its bottom node and the index written
inside it; its link (the next entry's ``previous_leaf``); gaps, insertions and reordering; every
stored subtree node, compared with the recomputed one as the entry that completes it goes by;
every checkpoint's signature, its root against the recomputed tree, and consistency between
successive checkpoints; rows stored at or beyond the ledger's size, and a size below the newest
checkpoint's. Reports the first wrong index.
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db.models import Q

from ledger import keys, merkle, signing
from ledger.models import LedgerCheckpoint, LedgerEntry, LedgerNode, LedgerState

# Re-reads of the size while looking for rows beyond it, if appends keep landing meanwhile.
_STRAY_ROUNDS = 10


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


class _StoredTree:
    """The stored nodes of the tree of ``size`` leaves: one stream per level, in index order, each
    read a chunk at a time as the pass reaches it."""

    def __init__(self, size: int, chunk: int) -> None:
        self._size, self._chunk = size, chunk
        self._levels: dict[int, Iterator[tuple[int, bytes]]] = {}

    def level(self, level: int) -> Iterator[tuple[int, bytes]]:
        """The stored nodes of ``level`` as (position, hash), in order."""
        rows = (
            LedgerNode.objects.filter(level=level, index__lt=self._size >> level)
            .order_by("index")
            .values_list("index", "hash")
            .iterator(chunk_size=self._chunk)
        )
        return ((position, bytes(digest)) for position, digest in rows)

    def next(self, level: int) -> tuple[int, bytes] | None:
        """The next stored node of ``level``: (position, hash), or None past the last one."""
        stream = self._levels.get(level)
        if stream is None:
            stream = self._levels[level] = self.level(level)
        return next(stream, None)


def _link_after(index: int, size: int, last_leaf: bytes) -> bytes:
    """The leaf hash recorded for entry ``index`` by what follows it: the next entry's
    ``previous_leaf``, or the state's ``last_leaf`` for the newest entry (empty: not recorded)."""
    if index + 1 >= size:
        return last_leaf
    link = (
        LedgerEntry.objects.filter(index=index + 1).values_list("previous_leaf", flat=True).first()
    )
    return bytes(link) if link is not None else b""


def _rewritten(index: int, leaf: bytes, size: int, last_leaf: bytes) -> bool:
    """Entry ``index`` (whose own leaf hash and bottom node agree with its bytes) was rewritten
    with both: what follows it recorded another leaf."""
    link = _link_after(index, size, last_leaf)
    return bool(link) and link != leaf


def _blame_node(
    report: VerifyReport,
    node: tuple[int, int],
    index: int,
    leaf: bytes,
    stored: tuple[int, bytes] | None,
    state: tuple[int, bytes],
) -> None:
    """A stored node completed by entry ``index`` is wrong or missing. Every node below it
    matched and every earlier entry matched its successor's link, so either entry ``index`` was
    rewritten with its leaf hash and bottom node (its successor's link says so) or the stored
    node itself was changed."""
    level, position = node
    what = "is missing" if stored is None or stored[0] != position else "does not match"
    if _rewritten(index, leaf, *state):
        report.bad(
            index,
            f"index {index}: entry rewritten with its leaf hash and bottom node (the stored tree "
            f"node (level {level}, position {position}) above it {what}, and the link after it "
            "records another leaf)",
        )
        return
    first = position << level
    report.bad(
        first,
        f"index {first}: the stored tree node (level {level}, position {position}) over this "
        f"entry {what} the entries (proofs would be wrong)",
    )


def _signed_roots(rows: Iterable[LedgerCheckpoint], report: VerifyReport) -> dict[int, bytes]:
    """Signed size -> signed root, for every checkpoint whose signature and row agree."""
    verifiers = keys.log_keys()  # the current key and the retired ones (LEDGER_PREVIOUS_KEYS)
    checkpoints: dict[int, bytes] = {}
    for checkpoint in rows:
        report.checkpoints += 1
        try:
            text, _key = signing.open_note_any(checkpoint.note, verifiers)
            _origin, signed_size, root = signing.parse_checkpoint(text)
        except ValueError as exc:
            report.bad(None, f"checkpoint {checkpoint.tree_size}: signature invalid ({exc})")
            continue
        if signed_size != checkpoint.tree_size or root != bytes(checkpoint.root_hash):
            report.bad(None, f"checkpoint {checkpoint.tree_size}: note and stored row disagree")
            continue
        checkpoints[signed_size] = root
    return checkpoints


def sizes_beyond(checkpoints: Iterable[int], stored: int) -> list[int]:
    return sorted(size for size in checkpoints if size > stored)


def _current_size() -> int:
    return LedgerState.objects.filter(pk=1).values_list("size", flat=True).first() or 0


def _beyond(limit: int) -> tuple[list[int], list[tuple[int, int]]]:
    """Entry indices and (level, position) of nodes stored at or beyond a tree of ``limit``."""
    entries = list(
        LedgerEntry.objects.filter(index__gte=limit)
        .order_by("index")
        .values_list("index", flat=True)[:1000]
    )
    # Node (level, p) belongs to the tree of ``limit`` leaves iff p < limit >> level.
    height = limit.bit_length()
    outside = Q(level__gt=height)
    for level in range(height + 1):
        outside |= Q(level=level, index__gte=limit >> level)
    nodes = list(
        LedgerNode.objects.filter(outside)
        .order_by("level", "index")
        .values_list("level", "index")[:1000]
    )
    return entries, nodes


def _report_strays(report: VerifyReport, size: int) -> None:
    """Rows at or beyond the size: in no tree, stored outside ledger_append (or left by a size
    lowered). Appends landing meanwhile are beyond the size too: their rows commit with the size
    that covers them, so the size read after the rows tells them apart."""
    limit = size
    for _ in range(_STRAY_ROUNDS):
        entries, nodes = _beyond(limit)
        now = _current_size()
        if now <= limit:
            break
        limit = now
    if entries:
        more = f" (and {len(entries) - 1} more)" if len(entries) > 1 else ""
        report.bad(
            entries[0],
            f"index {entries[0]}: entry stored at or beyond the ledger's size {limit}{more}: it "
            "is in no tree (inserted outside ledger_append, or the size was lowered)",
        )
    if nodes:
        level, position = nodes[0]
        more = f" (and {len(nodes) - 1} more)" if len(nodes) > 1 else ""
        report.bad(
            max(position << level, limit),
            f"tree node (level {level}, position {position}) stored beyond the ledger's size "
            f"{limit}{more}: it is in no tree (inserted outside ledger_append)",
        )


def _report_consistency(report: VerifyReport, checkpoints: dict[int, bytes]) -> None:
    """Successive checkpoints must be consistent (checked with stored nodes and signed roots)."""
    from ledger.services import LedgerInconsistent, consistency_proof

    sizes = sorted(checkpoints)
    for old, new in zip(sizes, sizes[1:], strict=False):
        try:
            proof = consistency_proof(old, new)
        except LedgerInconsistent as exc:
            report.bad(None, f"checkpoints {old} → {new}: {exc}")
            continue
        if not merkle.verify_consistency(old, new, proof, checkpoints[old], checkpoints[new]):
            report.bad(None, f"checkpoint {new} is not consistent with checkpoint {old}")


_DECODER = json.JSONDecoder()


def _claimed_index(data: bytes) -> object:
    """The index written inside an entry (None if it is not a JSON object). The decoder's own
    scanner, without ``json.loads``'s wrappers: this runs once per entry."""
    try:
        text = data.decode("utf-8")
        record, end = _DECODER.raw_decode(text)
    except ValueError:
        return None
    if end != len(text) or not isinstance(record, dict):
        return None
    return record.get("index")


def ledger_verify(*, chunk: int = 5000) -> VerifyReport:
    """Check the whole ledger (see the module docstring); every problem and the first bad index.

    The loop over the entries is one function on purpose: one streaming pass that sees every
    level of the tree at once. The compact range, the expected index, the previous leaf and the
    ``broken`` flag are the state of that single pass; each entry's checks decide whether the
    nodes it completes and the checkpoint after it are checked at all, so split into pieces that
    state would be threaded through every entry. What does not need it is in the helpers above.
    """
    # Checkpoints first, then the size: every checkpoint read was signed over a size the state
    # had reached, so one larger than the size read next means entries were removed; appends
    # landing while we verify are simply beyond the size we check.
    signed_rows = list(LedgerCheckpoint.objects.order_by("tree_size"))
    state = LedgerState.objects.filter(pk=1).first()
    size = state.size if state else 0
    last_leaf = bytes(state.last_leaf) if state else b""
    report = VerifyReport()
    checkpoints = _signed_roots(signed_rows, report)

    tree = _StoredTree(size, chunk)
    bottoms = tree.level(0)  # read once per entry: kept out of the per-level lookup
    compact = merkle.CompactRange()
    expected = 0
    previous = b""  # the recomputed leaf of entry expected - 1
    broken = False
    rows = (
        LedgerEntry.objects.filter(index__lt=size)
        .order_by("index")
        .values_list("index", "entry", "leaf_hash", "previous_leaf")
    )
    for index, data, stored_leaf, link in rows.iterator(chunk_size=chunk):
        report.entries += 1
        if broken:
            continue
        if index != expected:
            what = "missing (removed)" if index > expected else "duplicated"
            report.bad(expected, f"index {expected}: entry {what}; next stored index is {index}")
            broken = True
            continue
        data = bytes(data)
        leaf = merkle.leaf_hash(data)
        bottom = next(bottoms, None)
        claimed = _claimed_index(data)
        if leaf != bytes(stored_leaf):
            report.bad(index, f"index {index}: entry bytes changed (leaf hash differs)")
            broken = True
        elif bottom is None or bottom != (index, leaf):
            report.bad(
                index, f"index {index}: entry does not match the tree (inserted or replaced)"
            )
            broken = True
        elif claimed != index:
            report.bad(index, f"index {index}: entry records index {claimed} (moved or reordered)")
            broken = True
        elif index and link and bytes(link) != previous:
            report.bad(
                index - 1,
                f"index {index - 1}: entry rewritten with its leaf hash and bottom node (entry "
                f"{index} records another leaf hash for it)",
            )
            broken = True
        if broken:
            continue
        for level, position, digest in compact.append_completing(leaf):
            stored = tree.next(level)
            if stored != (position, digest):
                _blame_node(report, (level, position), index, leaf, stored, (size, last_leaf))
                broken = True
                break
        if broken:
            continue
        expected += 1
        previous = leaf
        if expected in checkpoints and compact.root() != checkpoints[expected]:
            if _rewritten(index, leaf, size, last_leaf):
                report.bad(
                    index,
                    f"index {index}: entry rewritten with its leaf hash and bottom node "
                    f"(checkpoint {expected}'s signed root and the link after it disagree)",
                )
            else:
                report.bad(
                    index,
                    f"checkpoint {expected}: signed root does not match the entries "
                    f"(entries before index {expected} were rewritten)",
                )
            broken = True

    beyond = [] if broken else sizes_beyond(checkpoints, expected)
    # The state's link to the newest entry; when a checkpoint signs more entries, those were
    # removed (and the link still names the old newest one): reported just below.
    if not (broken or beyond) and expected == size and last_leaf and size and last_leaf != previous:
        report.bad(
            size - 1,
            f"index {size - 1}: entry rewritten with its leaf hash and bottom node, or entries "
            "after it removed with the size lowered (the ledger's state records another leaf "
            "hash for its newest entry)",
        )
    held = f"the ledger's size is {size}{', its state row is missing' if state is None else ''}"
    for signed_size in beyond:
        report.bad(
            expected,
            f"checkpoint {signed_size}: signs {signed_size} entries but only {expected} are "
            f"stored ({held}: entries removed from the end)",
        )
    newest = signed_rows[-1].tree_size if signed_rows else 0
    if newest > size and newest not in beyond:  # the pass broke first, or its note is forged
        report.bad(
            size,
            f"checkpoint {newest}: signs {newest} entries but {held} (entries removed from the "
            "end, or the size lowered)",
        )
    if not broken and expected != size:
        report.bad(
            expected, f"index {expected}: the ledger records {size} entries, found {expected}"
        )
    _report_strays(report, size)
    if report.ok:
        _report_consistency(report, checkpoints)
    return report
