"""Asking the departments' witnesses to cosign the log's checkpoints (C2SP tlog-witness).

Each witness in ``LEDGER_WITNESSES`` (``VKEY=URL``) gets every new checkpoint with the
consistency proof from the largest tree it cosigned (``old 0`` at first; a 409 tells its real
size, and the request is made again from there). A 200 carries its cosignature, which is
verified and kept with the checkpoint. A checkpoint is *witnessed* once ``LEDGER_WITNESS_QUORUM``
witnesses cosigned it (or a larger one: a cosignature vouches for every smaller tree too).

This runs in Celery (``ledger.tasks.witness_checkpoints``), never on the append path: a witness
that is down delays only the witnessing, retried with backoff, and the office is told when a
checkpoint stays unwitnessed longer than ``LEDGER_WITNESS_ALERT_AFTER`` seconds. A witness that
refuses an honest checkpoint with 409 or 422 raises an alarm to the office and the auditors:
that is either a bug or an attack. (The ledger core knows no department: the alarm is recorded on
the witness's row, and ``audit.tasks.witness_alerts`` tells the people.)
"""

import base64
import datetime
import functools
import logging
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from ledger import services
from ledger.cosignatures import CosignatureError, Cosigner, split_note
from ledger.models import LedgerCheckpoint, LedgerCosignature, LedgerWitness

logger = logging.getLogger(__name__)

BACKOFF_FIRST = 30  # seconds after the first failure; doubled each time, up to BACKOFF_MAX
BACKOFF_MAX = 3600
MAX_PROOF_LINES = 63  # tlog-witness: at most 63 consistency-proof lines


@dataclass(frozen=True)
class Answer:
    """What one witness said about one checkpoint, in words for the command and the admin."""

    witness: str
    outcome: str  # "cosigned", "already", "refused", "unreachable", "alarm"
    detail: str


def parse_witness(entry: str) -> tuple[str, str]:
    """``(vkey, url)`` from ``VKEY=URL`` (the vkey's base64 may itself end in ``=``)."""
    for scheme in ("=https://", "=http://"):
        vkey, sep, rest = entry.strip().partition(scheme)
        if sep:
            Cosigner.from_vkey(vkey)  # raises CosignatureError on a bad key
            return vkey, scheme[1:] + rest
    raise CosignatureError(f"{entry!r} is not VKEY=URL (URL starting with http:// or https://)")


def configured() -> list[LedgerWitness]:
    """The witnesses of ``LEDGER_WITNESSES``, one row each (created on first sight)."""
    rows = []
    for entry in settings.LEDGER_WITNESSES:
        vkey, url = parse_witness(entry)
        row, _made = LedgerWitness.objects.get_or_create(
            vkey=vkey, defaults={"name": Cosigner.from_vkey(vkey).name, "url": url}
        )
        if row.url != url:
            LedgerWitness.objects.filter(pk=row.pk).update(url=url)
            row.url = url
        rows.append(row)
    return rows


def quorum() -> int:
    """Cosignatures a checkpoint needs (``LEDGER_WITNESS_QUORUM``, at most the witnesses)."""
    return min(settings.LEDGER_WITNESS_QUORUM, len(settings.LEDGER_WITNESSES))


def _rows() -> list[LedgerWitness]:
    return list(LedgerWitness.objects.filter(vkey__in=_vkeys(tuple(settings.LEDGER_WITNESSES))))


def witnessed_size(rows: list[LedgerWitness] | None = None) -> int:
    """The largest checkpoint size that a quorum of witnesses vouches for (0 if none)."""
    needed = quorum()
    if needed == 0:
        return 0
    sizes = sorted((row.cosigned_size for row in (_rows() if rows is None else rows)), reverse=True)
    return sizes[needed - 1] if len(sizes) >= needed else 0


def status() -> dict[str, object]:
    """For the ledger page, admin and the API: witnessed up to N of the latest M."""
    latest = services.latest_checkpoint()
    rows = sorted(_rows(), key=lambda row: row.name)
    return {
        "latest": latest.tree_size if latest else 0,
        "witnessed": witnessed_size(rows),
        "quorum": quorum(),
        "witnesses": rows,
    }


@functools.cache
def _vkeys(entries: tuple[str, ...]) -> list[str]:
    return [parse_witness(entry)[0] for entry in entries]


def _request_body(old: int, checkpoint: LedgerCheckpoint) -> bytes:
    proof = services.consistency_proof(old, checkpoint.tree_size) if old else []
    lines = [f"old {old}", *(base64.b64encode(node).decode() for node in proof)]
    return ("\n".join(lines) + "\n\n" + checkpoint.note).encode()


def _post(url: str, body: bytes) -> tuple[int, str, str]:
    """``(status, content type, text)``; status 0 when the witness could not be reached."""
    request = urllib.request.Request(  # noqa: S310 - the URL is the operator's setting
        url.rstrip("/") + "/add-checkpoint",
        data=body,
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.LEDGER_WITNESS_TIMEOUT) as reply:  # noqa: S310
            return reply.status, reply.headers.get_content_type(), reply.read(65536).decode()
    except urllib.error.HTTPError as error:
        text = error.read(65536).decode(errors="replace")
        return error.code, error.headers.get_content_type(), text
    except (urllib.error.URLError, OSError, ValueError) as error:
        return 0, "", str(error)


def witness_ask(witness: LedgerWitness, checkpoint: LedgerCheckpoint) -> Answer:
    """Ask one witness to cosign ``checkpoint``; keep its cosignature or its refusal."""
    return _ask([witness], checkpoint)[0]


def _ask(witnesses: list[LedgerWitness], checkpoint: LedgerCheckpoint) -> list[Answer]:
    """Ask the witnesses at once (HTTP in threads; the database only in this thread).

    A 409 with the witness's real size is followed by a new request from that size, at most
    twice. Never raises for what a witness says: each answer is recorded on its row.
    """
    answers: list[Answer] = []
    pending = [(witness, witness.cosigned_size) for witness in witnesses]
    with ThreadPoolExecutor(max_workers=max(1, len(witnesses))) as pool:
        for _round in range(3):
            asking = []
            for witness, old in pending:
                done = _nothing_to_ask(witness, checkpoint, old)
                if done:
                    answers.append(done)
                else:
                    asking.append((witness, old, _request_body(old, checkpoint)))
            replies = list(pool.map(lambda item: _post(item[0].url, item[2]), asking))
            pending = []
            for (witness, old, _body), reply in zip(asking, replies, strict=True):
                result = _handle(witness, checkpoint, old, reply)
                if isinstance(result, Answer):
                    answers.append(result)
                else:
                    pending.append((witness, result))
            if not pending:
                break
    answers.extend(_failed(witness, "kept answering 409") for witness, _old in pending)
    return answers


def _nothing_to_ask(
    witness: LedgerWitness, checkpoint: LedgerCheckpoint, old: int
) -> Answer | None:
    if old > checkpoint.tree_size:
        return _record(witness, "already", f"has cosigned size {old}", size=old)
    if old == checkpoint.tree_size and checkpoint.cosignatures.filter(witness=witness).exists():
        return _record(witness, "already", f"cosigned size {old}", size=old)
    return None


def _handle(
    witness: LedgerWitness, checkpoint: LedgerCheckpoint, old: int, reply: tuple[int, str, str]
) -> Answer | int:
    """The answer to record, or the size to ask again from (a 409 naming a size we signed)."""
    code, kind, text = reply
    if code == 200:
        body, _lines = split_note(checkpoint.note)
        found = Cosigner.from_vkey(witness.vkey).find(body, text.splitlines())
        if found is None:
            return _failed(witness, "answered 200 without a valid cosignature")
        line, timestamp = found
        LedgerCosignature.objects.get_or_create(
            checkpoint=checkpoint, witness=witness, defaults={"line": line, "timestamp": timestamp}
        )
        detail = f"cosigned size {checkpoint.tree_size}"
        return _record(witness, "cosigned", detail, checkpoint.tree_size)
    if code == 409 and kind == "text/x.tlog.size" and text.strip().isdigit():
        claimed = int(text.strip())
        # Asked from this very size, it still refuses: it cosigned another root of it (a fork).
        if claimed == checkpoint.tree_size and old == claimed:
            return _alarm(witness, checkpoint, f"409: another tree of size {claimed} was cosigned")
        if claimed > checkpoint.tree_size or not _is_ours(claimed):
            return _alarm(witness, checkpoint, f"409: the witness has seen size {claimed}")
        return claimed
    if code in (409, 422):
        return _alarm(witness, checkpoint, f"{code}: {text.strip()[:200]}")
    if code == 0:
        return _failed(witness, f"unreachable: {text[:200]}")
    return _failed(witness, f"answered {code}: {text.strip()[:200]}")


def _is_ours(size: int) -> bool:
    return size == 0 or LedgerCheckpoint.objects.filter(tree_size=size).exists()


def _record(witness: LedgerWitness, outcome: str, detail: str, size: int) -> Answer:
    LedgerWitness.objects.filter(pk=witness.pk).update(
        cosigned_size=max(size, witness.cosigned_size),
        last_attempt_at=timezone.now(),
        last_answer=detail[:300],
        failures=0,
        next_attempt_at=None,
    )
    return Answer(witness.name, outcome, detail)


def _failed(witness: LedgerWitness, detail: str) -> Answer:
    failures = witness.failures + 1
    delay = min(BACKOFF_FIRST * 2 ** (failures - 1), BACKOFF_MAX)
    LedgerWitness.objects.filter(pk=witness.pk).update(
        last_attempt_at=timezone.now(),
        last_answer=detail[:300],
        failures=failures,
        next_attempt_at=timezone.now() + datetime.timedelta(seconds=delay),
    )
    logger.warning("witness %s: %s (retry in %d s)", witness.name, detail, delay)
    return Answer(witness.name, "unreachable" if "unreachable" in detail else "refused", detail)


def _alarm(witness: LedgerWitness, checkpoint: LedgerCheckpoint, detail: str) -> Answer:
    """A witness refused a checkpoint the portal signed after checking its consistency."""
    text = f"checkpoint {checkpoint.tree_size}: {detail}"
    _failed(witness, text)
    LedgerWitness.objects.filter(pk=witness.pk).update(alarm=text, alarm_at=timezone.now())
    logger.error("witness %s refused an honest checkpoint: %s", witness.name, text)
    return Answer(witness.name, "alarm", text)


def witness_checkpoints(*, wait: bool = False) -> list[Answer]:
    """Ask every due witness (every one with ``wait``) about the latest checkpoint, at once."""
    checkpoint = services.latest_checkpoint()
    witnesses = configured()
    if checkpoint is None or not witnesses:
        return []
    now = timezone.now()
    due = [w for w in witnesses if wait or w.next_attempt_at is None or w.next_attempt_at <= now]
    return _ask(due, checkpoint) if due else []
