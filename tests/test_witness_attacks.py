"""The office rewrites history as a database superuser holding the log key; the witnesses catch it.

20 trials of each attack on PostgreSQL (triggers off with ``session_replication_role = replica``,
as only a superuser can): rewrite a witnessed entry and re-sign; drop entries and checkpoints
back to an earlier size and grow a new history; lower the stored size; TRUNCATE every ledger
table; fork (two checkpoints of one size to two witnesses). Each is detected by
``govshare_verify.py export --witness … --quorum 2`` (with the witness's own state as a trusted
checkpoint where only that can tell), and wherever the attacker asks the witnesses to cosign the
rewritten history they refuse and keep their state.
"""

import base64
import io
import random
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from ledger import keys, merkle, signing, witnesses
from ledger import services as ledger
from ledger.models import LedgerEntry
from tests.test_witnessing import ROOT, _grow, two_witnesses  # noqa: F401 - the fixture

VERIFY = ROOT / "tools" / "govshare_verify.py"
TRIALS = 20


class _Undo(Exception):
    pass


def _mth(leaves):
    """RFC 9162 MTH over a list of leaf hashes (small trees, in memory)."""
    if not leaves:
        return merkle.EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k << 1 < len(leaves):
        k <<= 1
    return merkle.node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def _sql(*statements):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE wants no pending checks
        cursor.execute("SET session_replication_role = replica")  # triggers off (superuser)
        for statement, params in statements:
            cursor.execute(statement, params)
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # as the appends that follow expect


def _forged_checkpoint(leaves):
    note = keys.signer().sign(
        signing.checkpoint_text("govshare.test/ledger", len(leaves), _mth(leaves))
    )
    return note


def _verify(tmp, pair, *extra):
    """Both verifiers: govshare_verify.py on an export, and ledger_verify on the database; they
    must agree. Returns govshare_verify's exit code and output."""
    args = [a for w in pair for a in ("--witness", w.vkey)] + ["--quorum", "2"]
    args += [str(a) for a in extra]
    try:
        call_command("ledger_verify", *args, stdout=io.StringIO(), stderr=io.StringIO())
        database_ok = True
    except CommandError:
        database_ok = False
    code, out = _verify_export(tmp, pair, *extra)
    assert database_ok == (code == 0), out
    return code, out


def _verify_export(tmp, pair, *extra):
    export = tmp / f"export-{random.getrandbits(40):x}"
    call_command("ledger_export", str(export))
    args = [sys.executable, str(VERIFY), "export", str(export), "--key", keys.verifier_key()]
    for witness in pair:
        args += ["--witness", witness.vkey]
    result = subprocess.run(  # noqa: S603
        [*args, "--quorum", "2", *map(str, extra)], capture_output=True, text=True, timeout=60
    )
    return result.returncode, result.stdout + result.stderr


def _honest_log(pair, rng):
    """A log witnessed by both at two sizes; returns (earlier size, witnessed size)."""
    _grow(rng.randint(3, 6))
    first = ledger.ledger_checkpoint_sign().tree_size
    assert {a.outcome for a in witnesses.witness_checkpoints(wait=True)} == {"cosigned"}
    _grow(rng.randint(3, 6), start=first)
    size = ledger.ledger_checkpoint_sign().tree_size
    assert {a.outcome for a in witnesses.witness_checkpoints(wait=True)} == {"cosigned"}
    return first, size


def _trial(pair, tmp_path, attack, seed):
    rng = random.Random(seed)
    for witness in pair:  # each trial starts with witnesses that know nothing
        witness.stop()
        witness.state.unlink(missing_ok=True)
        witness.start()
    try:
        with transaction.atomic():
            first, size = _honest_log(pair, rng)
            code, out = _verify(tmp_path, pair)
            assert code == 0, out  # the honest log verifies against both witnesses
            states = [w.state_note() for w in pair]
            trusted = tmp_path / f"trusted-{seed}"
            trusted.write_text(states[0], encoding="utf-8")
            attack(pair, rng, first, size, tmp_path, trusted)
            assert [w.state_note() for w in pair] == states or attack is _fork
            raise _Undo
    except _Undo:
        pass


def _ask_refused(pair):
    answers = witnesses.witness_checkpoints(wait=True)
    assert answers and {a.outcome for a in answers} == {"alarm"}, answers


def _rewrite(pair, rng, first, size, tmp, trusted):
    """Change a witnessed entry, drop the evidence, re-sign the same size."""
    index = rng.randrange(size)
    entries = list(LedgerEntry.objects.order_by("index"))
    changed = entries[index].entry_bytes.replace(b'"n":', b'"n": ')
    leaves = [bytes(e.leaf_hash) for e in entries]
    leaves[index] = merkle.leaf_hash(changed)
    _sql(
        ("DELETE FROM ledger_ledgercosignature", []),
        ("DELETE FROM ledger_ledgercheckpoint", []),
        (
            "UPDATE ledger_ledgerentry SET entry = %s, leaf_hash = %s WHERE index = %s",
            [changed, leaves[index], index],
        ),
    )
    forged = _forged_checkpoint(leaves)
    _sql(
        (
            "INSERT INTO ledger_ledgercheckpoint (tree_size, root_hash, note, created_at) "
            "VALUES (%s, %s, %s, now())",
            [size, _mth(leaves), forged],
        ),
    )
    code, out = _verify(tmp, pair)
    assert code == 1 and "cosignature" in out, out
    _ask_refused(pair)


def _drop_back(pair, rng, first, size, tmp, trusted):
    """Cut entries and checkpoints back to an earlier size, then grow another history."""
    cut = first
    last = LedgerEntry.objects.get(index=cut - 1)
    _sql(
        (
            "DELETE FROM ledger_ledgercosignature USING ledger_ledgercheckpoint c "
            "WHERE checkpoint_id = c.id AND c.tree_size > %s",
            [cut],
        ),
        ("DELETE FROM ledger_ledgercheckpoint WHERE tree_size > %s", [cut]),
        ("DELETE FROM ledger_ledgernode WHERE (index + 1) * (1::bigint << level) > %s", [cut]),
        ("DELETE FROM ledger_ledgerentry WHERE index >= %s", [cut]),
        ("UPDATE ledger_ledgerstate SET size = %s, last_leaf = %s", [cut, bytes(last.leaf_hash)]),
    )
    code, out = _verify(tmp, pair, "--trusted-checkpoint", trusted)
    assert code == 1 and "cut back" in out, out
    _grow(size - cut + 2, start=1000)
    ledger.ledger_checkpoint_sign()
    code, out = _verify(tmp, pair)
    assert code == 1 and "cosignature" in out, out
    _ask_refused(pair)


def _lower_size(pair, rng, first, size, tmp, trusted):
    lowered = rng.randrange(1, size)
    _sql(("UPDATE ledger_ledgerstate SET size = %s", [lowered]))
    code, out = _verify(tmp, pair)
    assert code == 1 and "entries removed from the end" in out, out
    code, out = _verify(tmp, pair, "--trusted-checkpoint", trusted)
    assert code == 1 and "cut back" in out, out


def _truncate(pair, rng, first, size, tmp, trusted):
    _sql(
        (
            "TRUNCATE ledger_ledgercosignature, ledger_ledgerwitness, ledger_ledgercheckpoint, "
            "ledger_ledgernode, ledger_ledgerentry, ledger_ledgerstate",
            [],
        ),
    )
    code, out = _verify(tmp, pair)
    assert code == 1, out
    code, out = _verify(tmp, pair, "--trusted-checkpoint", trusted)
    assert code == 1 and "cut back" in out, out
    _grow(2, start=2000)
    ledger.ledger_checkpoint_sign()
    _ask_refused(pair)


def _fork(pair, rng, first, size, tmp, trusted):
    """Two checkpoints of one size: the honest one to the first witness, another to the second."""
    _grow(2, start=3000)
    honest = ledger.ledger_checkpoint_sign()
    assert witnesses.witness_ask(witnesses.configured()[0], honest).outcome == "cosigned"
    leaves = [bytes(e.leaf_hash) for e in LedgerEntry.objects.order_by("index")]
    forged_leaves = [*leaves[:-1], merkle.leaf_hash(b'{"forged": true}')]
    note = _forged_checkpoint(forged_leaves)

    def lookup(level, index):
        return _mth(forged_leaves[index << level : (index + 1) << level])

    proof = merkle.consistency_proof(lookup, size, len(forged_leaves))
    body = f"old {size}\n" + "".join(base64.b64encode(p).decode() + "\n" for p in proof)
    second = witnesses.configured()[1]
    code, _kind, _text = witnesses._post(second.url, (body + "\n" + note).encode())
    assert code == 200  # the second witness saw only the forged tree
    code, out = _verify(tmp, pair)
    assert code == 1 and "1 valid cosignature(s) of the 2 required" in out, out
    assert witnesses.witness_ask(second, honest).outcome == "alarm"  # it refuses the other fork


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("attack", [_rewrite, _drop_back, _lower_size, _truncate, _fork])
def test_every_rewrite_by_the_database_owner_is_detected(two_witnesses, tmp_path, attack):  # noqa: F811
    for trial in range(TRIALS):
        _trial(two_witnesses, tmp_path, attack, seed=trial)
