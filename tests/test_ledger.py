"""The transparency ledger inside the workflow: one entry per transaction, none for refused or
rolled-back ones, signed checkpoints, proofs over the API, receipts, tamper detection."""

import base64
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from rest_framework.test import APIClient

from access_requests import services as rs
from catalog import services as catalog_services
from core.exceptions import IllegalTransition
from departments.models import Membership
from ledger import keys, merkle, signing
from ledger import services as ledger
from ledger.models import LedgerCheckpoint, LedgerEntry, LedgerNode, LedgerState
from ledger.verification import ledger_verify
from rights import services as grant_services
from rights.models import Grant
from tests.conftest import GOOD_CSV, csv_upload, make_user


def entries():
    return [json.loads(bytes(e.entry)) for e in LedgerEntry.objects.order_by("index")]


def types():
    return [e["type"] for e in entries()]


@pytest.fixture
def approved(request_draft, requester, steward, reviewer):
    rs.request_submit(actor=requester, request=request_draft)
    rs.request_endorse(actor=steward, request=request_draft, reason="Lawful.")
    rs.request_approve(actor=reviewer, request=request_draft, reason="Necessary and lawful.")
    return request_draft


def test_every_transaction_appends_exactly_one_entry(approved, reviewer, steward):
    grant = Grant.objects.get(request=approved)
    grant_services.grant_suspend(actor=reviewer, grant=grant, reason="Audit.")
    grant_services.grant_resume(actor=reviewer, grant=grant, reason="Done.")
    grant_services.grant_revoke(actor=reviewer, grant=grant, reason="Misuse.")
    assert types() == [
        "resource.published",
        "release.accepted",
        "request.submit",
        "request.endorse",
        # generated with the grant, inside the approval, before the approval's own entry
        "agreement.generated",
        "request.approve",
        "grant.suspend",
        "grant.resume",
        "grant.revoke",
    ]
    assert [e["index"] for e in entries()] == list(range(9))
    assert LedgerState.objects.get().size == 9


def test_entries_hold_ids_codes_and_hashes_never_free_text(approved, requester, reviewer):
    records = {e["type"]: e for e in entries()}
    approve = records["request.approve"]
    grant = Grant.objects.get(request=approved)
    assert approve["subject"] == {
        "request": approved.pk,
        "resource": approved.resource_id,
        "grant": grant.pk,
    }
    assert approve["departments"] == ["CIVIL", "HEALTH", "OFFICE"]
    assert approve["actor"] == reviewer.pk
    assert approve["detail"] == {
        "from": "office_review",
        "to": "approved",
        "fields": ["resident_id", "dose_number", "birth_date"],
    }
    import hashlib

    assert (
        approve["hashes"]["reason_sha256"] == hashlib.sha256(b"Necessary and lawful.").hexdigest()
    )
    raw = b"".join(bytes(e.entry) for e in LedgerEntry.objects.all())
    for secret in (b"Necessary and lawful.", b"Lawful.", requester.username.encode(), b"R001"):
        assert secret not in raw
    release = records["release.accepted"]
    assert release["hashes"]["sha256"] == approved.resource.releases.get().sha256
    # Stored bytes are exactly the RFC 8785 form, and the leaf hash is over them.
    entry = LedgerEntry.objects.get(index=approve["index"])
    import rfc8785

    assert bytes(entry.entry) == rfc8785.dumps(json.loads(bytes(entry.entry)))
    assert bytes(entry.leaf_hash) == merkle.leaf_hash(bytes(entry.entry))


def test_refused_transitions_append_nothing(approved, requester, steward, reviewer, departments):
    before = LedgerEntry.objects.count()
    with pytest.raises(IllegalTransition):
        rs.request_reject(actor=reviewer, request=approved, reason="No.")
    with pytest.raises(PermissionDenied):
        grant_services.grant_revoke(
            actor=steward, grant=Grant.objects.get(request=approved), reason="x"
        )
    assert LedgerEntry.objects.count() == before


def test_a_rolled_back_transaction_leaves_no_entry_and_no_gap(request_draft, requester, steward):
    before = LedgerEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        rs.request_submit(actor=requester, request=request_draft)
        raise RuntimeError("the surrounding change failed")
    assert LedgerEntry.objects.count() == before
    assert LedgerState.objects.get().size == before
    rs.request_submit(actor=requester, request=request_draft)
    assert list(LedgerEntry.objects.values_list("index", flat=True)) == list(range(before + 1))


def test_catalog_changes_and_retirement_are_recorded(released, steward):
    catalog_services.resource_update(actor=steward, resource=released, data={"title": "New"})
    catalog_services.resource_retire(actor=steward, resource=released, reason="Superseded.")
    records = entries()
    assert [r["type"] for r in records] == [
        "resource.published",
        "release.accepted",
        "resource.changed",
        "resource.retired",
    ]
    assert records[2]["detail"]["version"] == 2


def test_expiry_is_recorded_without_an_actor(approved):
    import datetime

    grant = Grant.objects.get(request=approved)
    grant_services.grants_expire_due(today=grant.valid_until + datetime.timedelta(days=1))
    last = entries()[-1]
    assert (last["type"], last["actor"]) == ("grant.expire", None)


def test_timeline_steps_link_their_ledger_entries(approved):
    steps = {s.action: s.ledger_index for s in approved.steps.all()}
    assert steps["submit"] is None  # the submit transition is linked from its routing step
    indexed = [s for s in approved.steps.order_by("id") if s.ledger_index is not None]
    assert [entries()[s.ledger_index]["type"] for s in indexed] == [
        "request.submit",
        "request.endorse",
        "request.approve",
    ]


# --- checkpoints ----------------------------------------------------------------------------


def test_checkpoint_is_a_signed_c2sp_note_over_the_current_root(approved):
    checkpoint = ledger.ledger_checkpoint_sign()
    size = LedgerState.objects.get().size
    text = signing.open_note(checkpoint.note, keys.verifier_key())
    origin, tree_size, root = signing.parse_checkpoint(text)
    assert (origin, tree_size) == ("govshare.test/ledger", size)
    leaves = [merkle.leaf_hash(bytes(e.entry)) for e in LedgerEntry.objects.order_by("index")]
    compact = merkle.CompactRange()
    for leaf in leaves:
        compact.append(leaf)
    assert root == compact.root()
    assert checkpoint.note.splitlines()[4].startswith("\u2014 govshare.test/ledger ")
    assert ledger.ledger_checkpoint_sign().pk == checkpoint.pk  # unchanged tree: no new one


def test_verifier_key_format():
    name, key_id, _public = signing.verifier_from_string(keys.verifier_key())
    assert name == "govshare.test/ledger"
    assert keys.verifier_key().startswith(f"govshare.test/ledger+{key_id.hex()}+")


def test_a_forged_signature_is_rejected(approved):
    checkpoint = ledger.ledger_checkpoint_sign()
    other = signing.generate_signer("govshare.test/ledger")
    forged = other.sign(checkpoint.note.split("\n\n")[0] + "\n")
    with pytest.raises(ValueError):
        signing.open_note(forged, keys.verifier_key())


def _disable_triggers():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The checks deferred to commit first: ALTER TABLE refuses a table with pending ones.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for table in (
                "ledger_ledgerentry",
                "ledger_ledgernode",
                "ledger_ledgercheckpoint",
                "ledger_ledgerstate",
            ):
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")


def test_no_checkpoint_is_signed_over_a_rewritten_tree(approved, requester, departments):
    ledger.ledger_checkpoint_sign()
    _disable_triggers()
    # Rewrite history: the subtree over entries 0-3, which every later root is built on.
    LedgerNode.objects.filter(level=2, index=0).update(hash=b"\x11" * 32)
    grant = Grant.objects.get(request=approved)
    grant_services.grants_expire_due(
        today=grant.valid_until.replace(year=grant.valid_until.year + 1)
    )
    with pytest.raises(ledger.LedgerInconsistent):
        ledger.ledger_checkpoint_sign()
    assert LedgerCheckpoint.objects.count() == 1


# --- verification and tampering -------------------------------------------------------------


@pytest.fixture
def checked_ledger(approved, reviewer):
    ledger.ledger_checkpoint_sign()
    grant = Grant.objects.get(request=approved)
    grant_services.grant_suspend(actor=reviewer, grant=grant, reason="Audit.")
    grant_services.grant_resume(actor=reviewer, grant=grant, reason="Done.")
    ledger.ledger_checkpoint_sign()
    report = ledger_verify()
    assert report.ok, report.problems
    assert (report.entries, report.checkpoints) == (8, 2)  # with the agreement's entry
    _disable_triggers()
    return approved


def _bad_index():
    report = ledger_verify()
    assert not report.ok
    return report.first_bad_index, report.problems


def test_verify_names_a_changed_byte(checked_ledger):
    entry = LedgerEntry.objects.get(index=3)
    data = bytearray(bytes(entry.entry))
    data[-3] ^= 0x01
    LedgerEntry.objects.filter(index=3).update(entry=bytes(data))
    index, problems = _bad_index()
    assert index == 3
    assert "index 3: entry bytes changed" in problems[0]
    with pytest.raises(CommandError, match="first bad index: 3"):
        call_command("ledger_verify", stdout=open("/dev/null", "w"), stderr=open("/dev/null", "w"))  # noqa: SIM115


def test_verify_names_a_removed_entry(checked_ledger):
    LedgerEntry.objects.filter(index=2).delete()
    assert _bad_index()[0] == 2


def test_verify_names_an_inserted_entry(checked_ledger):
    # Shift entries 4.. up by one and put a forged entry at 4, with a matching leaf hash.
    for index in range(7, 3, -1):
        LedgerEntry.objects.filter(index=index).update(index=index + 1)
    import rfc8785

    forged = rfc8785.dumps({"index": 4, "type": "grant.revoke", "departments": ["CIVIL"]})
    LedgerEntry.objects.create(
        index=4,
        entry=forged,
        leaf_hash=merkle.leaf_hash(forged),
        entry_type="grant.revoke",
        departments="CIVIL",
        subject="",
        created_at=LedgerEntry.objects.get(index=0).created_at,
    )
    assert _bad_index()[0] == 4


def test_verify_names_swapped_entries(checked_ledger):
    a, b = LedgerEntry.objects.get(index=1), LedgerEntry.objects.get(index=5)
    LedgerEntry.objects.filter(index=1).update(entry=bytes(b.entry), leaf_hash=bytes(b.leaf_hash))
    LedgerEntry.objects.filter(index=5).update(entry=bytes(a.entry), leaf_hash=bytes(a.leaf_hash))
    index, problems = _bad_index()
    assert index == 1


def test_verify_reports_a_forged_checkpoint_signature(checked_ledger):
    checkpoint = LedgerCheckpoint.objects.order_by("tree_size").last()
    body = checkpoint.note.split("\n\n")[0] + "\n"
    forged = signing.generate_signer("govshare.test/ledger").sign(body)
    LedgerCheckpoint.objects.filter(pk=checkpoint.pk).update(note=forged)
    problems = _bad_index()[1]
    assert any("signature invalid" in p for p in problems)


def test_verify_reports_a_checkpoint_inconsistent_with_its_predecessor(checked_ledger):
    checkpoint = LedgerCheckpoint.objects.order_by("tree_size").last()
    wrong_root = b"\x42" * 32
    note = keys.signer().sign(
        signing.checkpoint_text("govshare.test/ledger", checkpoint.tree_size, wrong_root)
    )
    LedgerCheckpoint.objects.filter(pk=checkpoint.pk).update(note=note, root_hash=wrong_root)
    problems = _bad_index()[1]
    assert any(f"checkpoint {checkpoint.tree_size}" in p for p in problems)


@pytest.mark.postgres
def test_postgres_refuses_update_and_delete_of_ledger_rows(approved):
    from django.db import DatabaseError

    for statement in (
        "UPDATE ledger_ledgerentry SET entry_type = 'x' WHERE index = 0",
        "DELETE FROM ledger_ledgerentry WHERE index = 0",
        "DELETE FROM ledger_ledgernode WHERE level = 0",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert ledger_verify().ok


# --- API ------------------------------------------------------------------------------------


def api(user=None):
    client = APIClient()
    if user:
        client.force_login(user)
    return client


def test_key_is_public_plain_text(db):
    response = api().get("/api/v1/ledger/key/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode().strip() == keys.verifier_key()


def test_checkpoint_needs_sign_in_and_is_plain_text(approved, requester):
    assert api().get("/api/v1/ledger/checkpoint/").status_code == 401
    response = api(requester).get("/api/v1/ledger/checkpoint/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = signing.open_note(response.content.decode(), keys.verifier_key())
    assert signing.parse_checkpoint(text)[1] == LedgerState.objects.get().size


def test_party_reads_an_entry_with_a_proof_that_verifies(approved, requester):
    index = [e["type"] for e in entries()].index("request.approve")
    response = api(requester).get(f"/api/v1/ledger/entries/{index}/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"index", "tree_size", "entry", "leaf_hash", "inclusion_proof"}
    leaf = base64.b64decode(body["leaf_hash"])
    assert leaf == merkle.leaf_hash(base64.b64decode(body["entry"]))
    proof = [base64.b64decode(h) for h in body["inclusion_proof"]]
    root = ledger.root_at(body["tree_size"])
    assert merkle.verify_inclusion(leaf, index, body["tree_size"], proof, root)
    bad = api(requester).get(f"/api/v1/ledger/entries/{index}/", {"tree_size": index})
    assert bad.status_code == 400


def test_outsiders_cannot_read_another_departments_entries_or_receipts(approved, departments):
    police = make_user("police_clerk", departments["POLICE"], Membership.Role.REQUESTER)
    index = [e["type"] for e in entries()].index("request.approve")
    assert api(police).get(f"/api/v1/ledger/entries/{index}/").status_code == 404
    assert api(police).get(f"/api/v1/ledger/entries/{index}/receipt/").status_code == 404
    auditor = make_user("auditor", departments["OFFICE"], Membership.Role.AUDITOR)
    assert api(auditor).get(f"/api/v1/ledger/entries/{index}/").status_code == 200


def test_both_departments_download_the_receipt_of_a_decision(approved, requester, steward):
    index = [e["type"] for e in entries()].index("request.approve")
    for user in (requester, steward):
        response = api(user).get(f"/api/v1/ledger/entries/{index}/receipt/")
        assert response.status_code == 200
        assert "attachment" in response["Content-Disposition"]
        receipt = json.loads(response.content)
        text = signing.open_note(receipt["checkpoint"], keys.verifier_key())
        _origin, size, root = signing.parse_checkpoint(text)
        leaf = merkle.leaf_hash(base64.b64decode(receipt["entry"]))
        proof = [base64.b64decode(h) for h in receipt["inclusion_proof"]]
        assert size == receipt["tree_size"]
        assert merkle.verify_inclusion(leaf, index, size, proof, root)


def test_consistency_proof_over_the_api(approved, requester, reviewer):
    first = LedgerState.objects.get().size
    grant_services.grant_suspend(
        actor=reviewer, grant=Grant.objects.get(request=approved), reason="Check."
    )
    second = LedgerState.objects.get().size
    response = api(requester).get("/api/v1/ledger/consistency/", {"first": first, "second": second})
    assert response.status_code == 200
    proof = [base64.b64decode(h) for h in response.json()["proof"]]
    assert merkle.verify_consistency(
        first, second, proof, ledger.root_at(first), ledger.root_at(second)
    )
    assert (
        api(requester).get("/api/v1/ledger/consistency/", {"first": 0, "second": 1}).status_code
        == 400
    )
    assert api(requester).get("/api/v1/ledger/consistency/", {"first": "x"}).status_code == 400


def test_release_upload_is_one_entry_with_the_file_hash(released, steward):
    catalog_services.release_ingest(actor=steward, resource=released, upload=csv_upload(GOOD_CSV))
    last = entries()[-1]
    assert last["type"] == "release.accepted"
    assert last["detail"] == {"rows": 3, "sequence": 2}


def test_key_strings_round_trip_whatever_their_base64_holds():
    seen_plus = False
    for _ in range(64):
        signer = signing.generate_signer("govshare.test/ledger")
        text = signing.signer_to_string(signer)
        seen_plus |= "+" in text.split("+", 4)[4]
        again = signing.signer_from_string(text)
        assert again.verifier_key() == signer.verifier_key()
        assert signing.verifier_from_string(signer.verifier_key())[1] == signer.key_id
    assert seen_plus  # 64 keys: a "+" in the base64 is all but certain


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (["submit", "withdraw"], ["request.submit", "request.withdraw"]),
        (["submit", "owner_return"], ["request.submit", "request.return"]),
        (
            ["submit", "owner_reject", "appeal"],
            ["request.submit", "request.reject", "request.appeal"],
        ),
        (
            ["submit", "endorse", "office_reject"],
            ["request.submit", "request.endorse", "request.reject"],
        ),
    ],
)
def test_each_workflow_transition_is_one_entry(
    request_draft, requester, steward, reviewer, steps, expected
):
    run = {
        "submit": lambda: rs.request_submit(actor=requester, request=request_draft),
        "withdraw": lambda: rs.request_withdraw(actor=requester, request=request_draft),
        "owner_return": lambda: rs.request_return(actor=steward, request=request_draft, reason="r"),
        "owner_reject": lambda: rs.request_reject(actor=steward, request=request_draft, reason="r"),
        "appeal": lambda: rs.request_appeal(actor=requester, request=request_draft, reason="a"),
        "endorse": lambda: rs.request_endorse(actor=steward, request=request_draft),
        "office_reject": lambda: rs.request_reject(
            actor=reviewer, request=request_draft, reason="r"
        ),
    }
    before = LedgerEntry.objects.count()
    for step in steps:
        run[step]()
    assert types()[before:] == expected


def test_verify_names_entries_removed_from_the_signed_end(checked_ledger):
    LedgerEntry.objects.filter(index=7).delete()
    LedgerNode.objects.filter(level=0, index=7).delete()
    LedgerState.objects.update(size=7)
    index, problems = _bad_index()
    assert index == 7
    assert any("checkpoint 8: signs 8 entries but only 7 are stored" in p for p in problems)


def test_verify_names_a_changed_inner_node(checked_ledger):
    # Entries stay intact; only a stored subtree hash (which proofs are built from) is changed.
    LedgerNode.objects.filter(level=1, index=2).update(hash=b"\x07" * 32)
    index, problems = _bad_index()
    assert index == 4
    assert "stored tree node (level 1, position 2)" in problems[0]
