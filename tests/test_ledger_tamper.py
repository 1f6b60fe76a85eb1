"""Tampering with the ledger's tables: what PostgreSQL refuses (migration ledger/0003), and what
``ledger_verify`` names when a superuser goes around the triggers.

The refusals need PostgreSQL (``postgres`` marker). The verification tests run on SQLite too:
there they tamper directly, on PostgreSQL with the triggers disabled inside the test.
"""

import io
import json
import random
from contextlib import contextmanager

import pytest
import rfc8785
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from ledger import merkle
from ledger import services as ledger
from ledger.models import LedgerCheckpoint, LedgerEntry, LedgerNode, LedgerState
from ledger.verification import ledger_verify

TABLES = [
    "ledger_ledgerentry",
    "ledger_ledgernode",
    "ledger_ledgercheckpoint",
    "ledger_ledgerstate",
]
postgres = pytest.mark.postgres


def _grow(count):
    start = LedgerState.objects.filter(pk=1).values_list("size", flat=True).first() or 0
    for n in range(start, start + count):
        ledger.ledger_append(event="test.event", departments=["HEALTH"], subject={"n": n})


@pytest.fixture
def signed(db):
    """45 entries, checkpoints at 8, 21 and 45."""
    for size in (8, 21, 45):
        _grow(size - ledger.tree_size())
        ledger.ledger_checkpoint_sign()
    report = ledger_verify()
    assert report.ok, report.problems
    return 45


def _counts():
    return (
        LedgerEntry.objects.count(),
        LedgerNode.objects.count(),
        LedgerCheckpoint.objects.count(),
        LedgerState.objects.get().size,
    )


def _settle():
    """Run the checks deferred to commit now, as a new transaction would start with none queued
    (PostgreSQL refuses to ALTER or TRUNCATE a table with pending ones)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _refused(sql, params=None, match="the ledger"):
    _settle()
    with (
        pytest.raises(DatabaseError, match=match),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)
        # What the triggers check at commit, checked now (the test never commits).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


INSERT_ENTRY = (
    "INSERT INTO ledger_ledgerentry (index, entry, leaf_hash, previous_leaf, entry_type, "
    "departments, subject, created_at) VALUES (%s, %s, %s, %s, 'test.event', '', '', now())"
)


def _forged(index):
    data = rfc8785.dumps({"index": index, "type": "grant.revoke", "departments": ["CIVIL"]})
    return data, merkle.leaf_hash(data)


@contextmanager
def triggers_disabled():
    """As the superuser: the ledger's triggers off for the block (PostgreSQL), then on again."""
    if connection.vendor != "postgresql":
        yield
        return
    _settle()
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


# --- what PostgreSQL refuses ------------------------------------------------------------------


@postgres
def test_a_direct_insert_at_the_next_index_is_refused_and_appends_go_on(signed):
    before = _counts()
    data, leaf = _forged(signed)
    last = bytes(LedgerState.objects.get().last_leaf)
    _refused(INSERT_ENTRY, [signed, data, leaf, last], match=f"refuses entry {signed}")
    _refused(
        "INSERT INTO ledger_ledgernode (level, index, hash) VALUES (0, %s, %s)",
        [signed, leaf],
        match=f"refuses tree node \\(0, {signed}\\)",
    )
    _refused(
        "INSERT INTO ledger_ledgercheckpoint (tree_size, root_hash, note, created_at) "
        "VALUES (%s, %s, 'forged', now())",
        [signed + 1, leaf],
        match=f"refuses checkpoint {signed + 1}",
    )
    # A size grown without its entry: refused when the transaction would commit.
    _refused("UPDATE ledger_ledgerstate SET size = size + 1", match=f"entry {signed} was never")
    assert _counts() == before == (45, 86, 3, 45)
    _grow(3)
    assert ledger.tree_size() == 48
    assert list(LedgerEntry.objects.values_list("index", flat=True)) == list(range(48))
    assert ledger_verify().ok


@postgres
def test_a_direct_insert_at_any_other_index_is_refused(signed):
    before = _counts()
    data, leaf = _forged(0)
    for index in (signed + 1, signed + 1000, -1, 0, 7, signed - 1):
        _refused(INSERT_ENTRY, [index, data, leaf, b""], match="refuses entry|duplicate key")
    assert _counts() == before == (45, 86, 3, 45)
    assert ledger_verify().ok


@postgres
@pytest.mark.parametrize("tables", [[table] for table in TABLES] + [TABLES])
def test_truncate_of_a_ledger_table_is_refused_and_the_data_stays(signed, tables):
    before = _counts()
    _refused(f"TRUNCATE {', '.join(tables)} CASCADE", match="append-only: TRUNCATE on ledger_")
    assert _counts() == before == (45, 86, 3, 45)
    assert ledger_verify().ok


@postgres
def test_the_size_only_grows_and_the_state_row_stays(signed):
    before = _counts()
    _refused("UPDATE ledger_ledgerstate SET size = 40", match="size can only grow")
    _refused("UPDATE ledger_ledgerstate SET size = 0", match="size can only grow")
    _refused("UPDATE ledger_ledgerstate SET last_leaf = %s", [b"\x07" * 32], match="last_leaf")
    _refused("DELETE FROM ledger_ledgerstate", match="append-only: DELETE")
    _refused(
        "INSERT INTO ledger_ledgerstate (id, size, last_leaf) VALUES (2, 0, '')",
        match="refuses a state row",
    )
    with pytest.raises(DatabaseError, match="size can only grow"), transaction.atomic():
        LedgerState.objects.update(size=44)
    assert _counts() == before == (45, 86, 3, 45)
    assert ledger_verify().ok


@postgres
def test_an_entry_without_its_nodes_is_refused_at_commit(signed):
    """Going through the motions of an append by hand, but leaving out the nodes."""
    before = _counts()
    data, leaf = _forged(signed)
    last = bytes(LedgerState.objects.get().last_leaf)
    with (
        pytest.raises(DatabaseError, match=f"entry {signed}: stored without its tree node"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE ledger_ledgerstate SET size = size + 1, last_leaf = %s", [leaf])
        cursor.execute(INSERT_ENTRY, [signed, data, leaf, last])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert _counts() == before == (45, 86, 3, 45)
    _grow(1)
    assert ledger_verify().ok


# --- what ledger_verify names -----------------------------------------------------------------


def _rehash(index):
    """Rewrite entry ``index`` with its leaf hash and bottom node, all consistent."""
    entry = LedgerEntry.objects.get(index=index)
    record = json.loads(bytes(entry.entry))
    record["type"] = "grant.revoke"
    data = rfc8785.dumps(record)
    leaf = merkle.leaf_hash(data)
    LedgerEntry.objects.filter(index=index).update(entry=data, leaf_hash=leaf)
    LedgerNode.objects.filter(level=0, index=index).update(hash=leaf)


def test_an_entry_rewritten_with_its_leaf_and_bottom_node_is_named_by_its_own_index(signed):
    trials = random.Random(20_261_201).sample(range(signed), 20)
    with triggers_disabled():
        for index in trials:
            with transaction.atomic():
                _rehash(index)
                report = ledger_verify()
                assert not report.ok
                assert report.first_bad_index == index, (index, report.problems)
                assert report.problems[0].startswith(f"index {index}: entry rewritten")
                transaction.set_rollback(True)
        _rehash(trials[0])
        with pytest.raises(CommandError, match=f"first bad index: {trials[0]}\\."):
            call_command("ledger_verify", stdout=io.StringIO(), stderr=io.StringIO())


def test_every_position_is_named_exactly(signed):
    """Each index, odd and even, under a checkpoint boundary or not, and the newest entry."""
    with triggers_disabled():
        for index in range(signed):
            with transaction.atomic():
                _rehash(index)
                assert ledger_verify().first_bad_index == index
                transaction.set_rollback(True)


def test_the_newest_entry_rewritten_before_any_checkpoint_is_named(signed):
    _grow(3)  # 46..48, no checkpoint yet; 47 completes no node (an even index)
    with triggers_disabled():
        _rehash(47)
    report = ledger_verify()
    assert report.first_bad_index == 47, report.problems


def _drop_from(size):
    """A superuser's TRUNCATE-like removal of the entries (and their nodes) from ``size`` on."""
    LedgerEntry.objects.filter(index__gte=size).delete()
    for level in range(8):
        LedgerNode.objects.filter(level=level, index__gte=size >> level).delete()


def test_entries_dropped_after_the_newest_checkpoint_fail_naming_both_sizes(signed):
    _grow(5)
    with triggers_disabled():
        _drop_from(30)
        leaf = LedgerEntry.objects.get(index=29).leaf_hash
        LedgerState.objects.update(size=30, last_leaf=leaf)  # a careful tamperer
    report = ledger_verify()
    assert report.first_bad_index == 30
    assert (
        "checkpoint 45: signs 45 entries but only 30 are stored (the ledger's size is 30: "
        "entries removed from the end)" in report.problems
    )


def test_entries_dropped_with_the_size_left_fail(signed):
    with triggers_disabled():
        _drop_from(40)
    report = ledger_verify()
    assert report.first_bad_index == 40
    assert any("signs 45 entries but only 40 are stored" in p for p in report.problems)


def test_a_lowered_size_with_the_rows_left_reports_them(signed):
    _grow(3)
    with triggers_disabled():
        leaf = LedgerEntry.objects.get(index=44).leaf_hash
        LedgerState.objects.update(size=45, last_leaf=leaf)
    report = ledger_verify()
    assert report.first_bad_index == 45
    assert (
        "index 45: entry stored at or beyond the ledger's size 45 (and 2 more): it is in no tree "
        "(inserted outside ledger_append, or the size was lowered)" in report.problems
    )


def test_emptying_everything_but_the_checkpoints_fails(signed):
    with triggers_disabled():
        LedgerEntry.objects.all().delete()
        LedgerNode.objects.all().delete()
        LedgerState.objects.all().delete()
    report = ledger_verify()
    assert not report.ok
    assert report.first_bad_index == 0
    assert (
        "checkpoint 45: signs 45 entries but only 0 are stored (the ledger's size is 0, its "
        "state row is missing: entries removed from the end)" in report.problems
    )
    with pytest.raises(CommandError, match="FAILED"):
        call_command("ledger_verify", stdout=io.StringIO(), stderr=io.StringIO())


def test_a_stray_row_at_the_size_is_reported_not_ignored(signed):
    data, leaf = _forged(signed)
    with triggers_disabled():
        LedgerEntry.objects.create(
            index=signed,
            entry=data,
            leaf_hash=leaf,
            entry_type="grant.revoke",
            departments="CIVIL",
            subject="",
            created_at=LedgerEntry.objects.get(index=0).created_at,
        )
        LedgerNode.objects.create(level=0, index=signed + 1, hash=leaf)
    report = ledger_verify()
    assert report.first_bad_index == signed
    assert report.problems[0].startswith(f"index {signed}: entry stored at or beyond")
    assert any(
        f"tree node (level 0, position {signed + 1}) stored beyond" in p for p in report.problems
    )


def test_a_ledger_without_links_still_verifies(signed):
    """Entries stored before migration 0003 carry no ``previous_leaf``: nothing to compare."""
    with triggers_disabled():
        LedgerEntry.objects.update(previous_leaf=b"")
        LedgerState.objects.update(last_leaf=b"")
    assert ledger_verify().ok
    with triggers_disabled():
        _rehash(10)
    assert ledger_verify().first_bad_index in (10, 11)  # the tree alone: a pair of leaves
