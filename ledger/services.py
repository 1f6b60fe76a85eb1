"""The transparency ledger: appends, roots, proofs and signed checkpoints.

``ledger_append`` is the only write path for entries. Workflow services call it inside their own
transaction, so a rolled-back change leaves no entry, and the lock on ``LedgerState`` makes indices
gapless and ordered like the commits.
"""

import datetime
import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, TypeVar, TypeVarTuple

import rfc8785
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ledger import keys, merkle, signing
from ledger.cosignatures import with_cosignatures
from ledger.models import LedgerCheckpoint, LedgerEntry, LedgerNode, LedgerState

_T = TypeVar("_T")
_Args = TypeVarTuple("_Args")


class _Coded(Protocol):
    """A department as the ledger sees it (the ledger imports no portal app)."""

    @property
    def code(self) -> str: ...


class LedgerInconsistent(Exception):
    """The stored tree does not extend the last signed checkpoint: nothing is signed."""


def text_sha256(text: str) -> str:
    """Free text (a reason) goes into the ledger only as its SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _code(department: _Coded | str) -> str:
    return department if isinstance(department, str) else department.code


def ledger_append(
    *,
    event: str,
    actor: Any = None,
    departments: Iterable[_Coded | str | None] = (),
    subject: Mapping[str, Any] | None = None,
    hashes: dict[str, str] | None = None,
    detail: dict[str, Any] | None = None,
) -> LedgerEntry:
    """Append one transaction record and the tree nodes it completes; returns the entry.

    The record holds ids, department codes and hashes only — never raw data or names. Under the
    row lock on the state: grow the size (reserving the index), store the entry, linked to the
    entry before it by ``previous_leaf``, then the nodes it completes.
    """
    codes = sorted({_code(d) for d in departments if d})
    subject = {k: v for k, v in (subject or {}).items() if v is not None}
    with transaction.atomic():
        state, _ = LedgerState.objects.select_for_update().get_or_create(pk=1)
        index = state.size
        now = timezone.now()
        record: dict[str, Any] = {
            "index": index,
            "type": event,
            "time": now.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z"),
            "departments": codes,
            "actor": actor.pk if actor is not None else None,
            "subject": subject,
        }
        if hashes:
            record["hashes"] = hashes
        if detail:
            record["detail"] = detail
        data = rfc8785.dumps(record)
        leaf = merkle.leaf_hash(data)
        previous = bytes(state.last_leaf)
        # Reserve the index before storing anything: on PostgreSQL the entry table takes a row
        # only at an index its own transaction reserved (migration 0003), so nothing inserted
        # outside this function can take the next index.
        state.size, state.last_leaf = index + 1, leaf
        state.save(update_fields=["size", "last_leaf"])
        entry = LedgerEntry.objects.create(
            index=index,
            entry=data,
            leaf_hash=leaf,
            previous_leaf=previous,
            entry_type=event,
            departments=" ".join(codes),
            subject=" ".join(f"{k}:{v}" for k, v in sorted(subject.items()))[:200],
            created_at=now,
        )
        siblings = _fetch(_left_siblings(index))
        LedgerNode.objects.bulk_create(
            LedgerNode(level=level, index=position, hash=digest)
            for level, position, digest in merkle.new_nodes(
                index, leaf, lambda lvl, pos: siblings[(lvl, pos)]
            )
        )
    return entry


def _left_siblings(index: int) -> list[tuple[int, int]]:
    keys_: list[tuple[int, int]]
    keys_, level, position = [], 0, index
    while position & 1:
        keys_.append((level, position - 1))
        level += 1
        position >>= 1
    return keys_


def _fetch(node_keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    node_keys = set(node_keys)
    if not node_keys:
        return {}
    condition = Q()
    for level, position in node_keys:
        condition |= Q(level=level, index=position)
    found = {
        (level, position): bytes(digest)
        for level, position, digest in LedgerNode.objects.filter(condition).values_list(
            "level", "index", "hash"
        )
    }
    missing = node_keys - found.keys()
    if missing:
        raise LedgerInconsistent(f"stored tree nodes are missing: {sorted(missing)[:5]}")
    return found


def _with_stored_nodes(function: Callable[[merkle.NodeLookup, *_Args], _T], *args: *_Args) -> _T:
    """Run a merkle function twice: first to learn which nodes it reads, then with them."""
    wanted: set[tuple[int, int]] = set()

    def record(level: int, position: int) -> bytes:
        wanted.add((level, position))
        return b"\x00" * 32

    function(record, *args)
    found = _fetch(wanted)
    return function(lambda level, position: found[(level, position)], *args)


def tree_size() -> int:
    state = LedgerState.objects.filter(pk=1).first()
    return state.size if state else 0


def root_at(size: int) -> bytes:
    return _with_stored_nodes(merkle.root, size)


def inclusion_proof(index: int, size: int) -> list[bytes]:
    return _with_stored_nodes(merkle.inclusion_proof, index, size)


def consistency_proof(first: int, second: int) -> list[bytes]:
    return _with_stored_nodes(merkle.consistency_proof, first, second)


def latest_checkpoint() -> LedgerCheckpoint | None:
    return LedgerCheckpoint.objects.order_by("-tree_size").first()


def ledger_checkpoint_sign() -> LedgerCheckpoint | None:
    """Sign a checkpoint for the current tree if it has grown; returns the latest checkpoint.

    The new root is signed only after a consistency proof from the previous checkpoint verifies
    against both roots, so the log can never sign a history that rewrites what it signed before.
    """
    with transaction.atomic():
        state, _ = LedgerState.objects.select_for_update().get_or_create(pk=1)
        previous = latest_checkpoint()
        if state.size == 0 or (previous and previous.tree_size == state.size):
            return previous
        new_root = root_at(state.size)
        if previous is not None:
            # The previous checkpoint may be signed by a retired key (LEDGER_PREVIOUS_KEYS):
            # the first checkpoint under a new key still has to extend it.
            try:
                text, _key = signing.open_note_any(previous.note, keys.log_keys())
            except ValueError as exc:
                raise LedgerInconsistent(
                    f"checkpoint {previous.tree_size} does not verify with any log key ({exc}); "
                    "after a key rotation, list the old key in LEDGER_PREVIOUS_KEYS"
                ) from exc
            _origin, old_size, old_root = signing.parse_checkpoint(text)
            proof = consistency_proof(old_size, state.size)
            if not merkle.verify_consistency(old_size, state.size, proof, old_root, new_root):
                raise LedgerInconsistent(
                    f"the tree of size {state.size} does not extend checkpoint {old_size}"
                )
        note = keys.signer().sign(
            signing.checkpoint_text(settings.LEDGER_ORIGIN, state.size, new_root)
        )
        return LedgerCheckpoint.objects.create(tree_size=state.size, root_hash=new_root, note=note)


def checkpoint_covering(index: int) -> LedgerCheckpoint:
    """The oldest checkpoint that includes ``index``, signing a new one if none does yet."""
    found = LedgerCheckpoint.objects.filter(tree_size__gt=index).order_by("tree_size").first()
    # ``index`` is a stored entry, so the tree is not empty and signing returns a checkpoint.
    return found or ledger_checkpoint_sign()  # type: ignore[return-value]


def receipt(entry: LedgerEntry) -> dict[str, Any]:
    """Everything needed to prove ``entry`` offline: the bytes, the inclusion proof in a signed
    checkpoint, and the verifier key (check it against the published one)."""
    import base64

    checkpoint = checkpoint_covering(entry.index)
    proof = inclusion_proof(entry.index, checkpoint.tree_size)
    return {
        "format": "govshare-ledger-receipt/1",
        "index": entry.index,
        "tree_size": checkpoint.tree_size,
        "entry": base64.b64encode(entry.entry_bytes).decode(),
        "leaf_hash": base64.b64encode(bytes(entry.leaf_hash)).decode(),
        "inclusion_proof": [base64.b64encode(h).decode() for h in proof],
        "checkpoint": cosigned_note(checkpoint),  # with the witnesses' cosignatures
        # The key that signed this checkpoint (a retired key for an old one, after a rotation).
        "verifier_key": _signed_by(checkpoint),
    }


def _signed_by(checkpoint: LedgerCheckpoint) -> str:
    try:
        return signing.open_note_any(checkpoint.note, keys.log_keys())[1]
    except ValueError:
        return keys.verifier_key()  # the verifier will say the signature is wrong


def cosigned_note(checkpoint: LedgerCheckpoint) -> str:
    """The checkpoint's note with the log's signature and every stored witness cosignature."""
    lines = [c.line for c in checkpoint.cosignatures.order_by("witness__name")]
    return with_cosignatures(checkpoint.note, lines) if lines else checkpoint.note
