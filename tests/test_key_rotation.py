"""Rotating the log's signing key: old checkpoints stay verifiable, the first checkpoint under the
new key must still extend the last one under the old key, and the witnesses and the offline
verifier accept a list of log keys. Also: ``govshare_verify.py receipt --witness``."""

import base64
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from ledger import keys, signing, witnesses
from ledger import services as ledger
from ledger.models import LedgerCheckpoint, LedgerCosignature, LedgerEntry
from tests.test_witnessing import Witness

ROOT = Path(__file__).resolve().parent.parent
VERIFY = ROOT / "tools" / "govshare_verify.py"


def _grow(count, start=0):
    for n in range(count):
        ledger.ledger_append(event="test.event", subject={"n": start + n})


def _verify(*args):
    return subprocess.run(
        [sys.executable, str(VERIFY), *map(str, args)], capture_output=True, text=True, timeout=60
    )


def _keygen(path):
    out = io.StringIO()
    call_command("ledger_keygen", str(path), stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


@pytest.fixture
def rotated(db, settings, tmp_path):
    """Five entries signed under the old key, then the documented rotation, then four more
    entries signed under the new key. Returns (old vkey, new vkey)."""
    old = keys.verifier_key()
    _grow(5)
    first = ledger.ledger_checkpoint_sign()
    assert first.tree_size == 5
    new = _keygen(tmp_path / "ledger-2027.key")
    settings.LEDGER_SIGNING_KEY_FILE = str(tmp_path / "ledger-2027.key")
    settings.LEDGER_PREVIOUS_KEYS = [old]
    _grow(4, start=5)
    return old, new


@pytest.mark.django_db
def test_a_new_key_without_the_old_one_listed_signs_nothing(settings, tmp_path):
    _grow(3)
    ledger.ledger_checkpoint_sign()
    _keygen(tmp_path / "new.key")
    settings.LEDGER_SIGNING_KEY_FILE = str(tmp_path / "new.key")
    _grow(2, start=3)
    with pytest.raises(ledger.LedgerInconsistent, match="LEDGER_PREVIOUS_KEYS"):
        ledger.ledger_checkpoint_sign()
    assert list(LedgerCheckpoint.objects.values_list("tree_size", flat=True)) == [3]


@pytest.mark.django_db
def test_after_a_rotation_checkpoints_name_their_key_and_all_verify(rotated, tmp_path):
    old, new = rotated
    assert old != new
    second = ledger.ledger_checkpoint_sign()
    assert second.tree_size == 9
    first = LedgerCheckpoint.objects.get(tree_size=5)
    # Each checkpoint names the key that signed it (name + key id in its signature line).
    assert first.signing_key_id == "+".join(old.split("+", 2)[:2])
    assert second.signing_key_id == "+".join(new.split("+", 2)[:2])
    assert signing.open_note(second.note, new)
    with pytest.raises(ValueError):
        signing.open_note(second.note, old)

    out = io.StringIO()
    call_command("ledger_verify", stdout=out)
    assert "ledger OK: 9 entries, 2 checkpoints verified" in out.getvalue()

    response = APIClient().get("/api/v1/ledger/keys/")
    assert response.status_code == 200
    assert response.content.decode().splitlines() == [new, old]
    assert APIClient().get("/api/v1/ledger/key/").content.decode().strip() == new

    export = tmp_path / "export"
    call_command("ledger_export", str(export), stdout=io.StringIO())
    assert (export / "key.txt").read_text().splitlines() == [new, old]
    keyfile = tmp_path / "published-keys.txt"
    keyfile.write_text(response.content.decode())
    result = _verify("export", export, "--key", keyfile)
    assert result.returncode == 0, result.stderr
    assert "OK: 9 entries, 2 checkpoints (sizes 5, 9)" in result.stdout
    result = _verify("export", export, "--key", new, "--key", old)
    assert result.returncode == 0, result.stderr
    # The new key alone cannot vouch for the checkpoint the old key signed.
    result = _verify("export", export, "--key", new)
    assert result.returncode == 1
    assert "checkpoint 5: no signature by the key" in result.stderr


@pytest.mark.django_db
def test_receipts_carry_the_key_that_signed_their_checkpoint(rotated, tmp_path):
    old, new = rotated
    early = LedgerEntry.objects.get(index=2)
    late = LedgerEntry.objects.get(index=7)
    early_receipt, late_receipt = ledger.receipt(early), ledger.receipt(late)
    assert (early_receipt["tree_size"], early_receipt["verifier_key"]) == (5, old)
    assert (late_receipt["tree_size"], late_receipt["verifier_key"]) == (9, new)
    for name, receipt in [("early", early_receipt), ("late", late_receipt)]:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(receipt))
        result = _verify("receipt", path, "--key", new, "--key", old)
        assert result.returncode == 0, result.stderr
    result = _verify("receipt", tmp_path / "early.json", "--key", new)
    assert result.returncode == 1
    assert "no signature by the key" in result.stderr


@pytest.mark.django_db
def test_a_retired_key_that_is_not_a_key_stops_the_portal(settings):
    settings.LEDGER_PREVIOUS_KEYS = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="LEDGER_PREVIOUS_KEYS"):
        keys.log_keys()


@pytest.mark.django_db
def test_ledger_verify_without_the_retired_key_names_the_old_checkpoint(rotated, settings):
    ledger.ledger_checkpoint_sign()
    settings.LEDGER_PREVIOUS_KEYS = []
    err = io.StringIO()
    with pytest.raises(CommandError, match="FAILED"):
        call_command("ledger_verify", stdout=io.StringIO(), stderr=err)
    assert "checkpoint 5: signature invalid" in err.getvalue()


@pytest.mark.django_db
def test_witnesses_given_both_log_keys_cosign_across_the_rotation(rotated, settings, tmp_path):
    old, new = rotated
    # Step 1 of the rotation: each department restarts its witness trusting both keys. A witness
    # still trusting only the old key refuses the new key's checkpoint (403) and keeps its state.
    both = Witness(tmp_path, "health.gov/witness", [old, new])
    stale = Witness(tmp_path, "civil.gov/w", [old])
    pair = [both, stale]
    settings.LEDGER_WITNESSES = [f"{w.vkey}={w.url}" for w in pair]
    settings.LEDGER_WITNESS_QUORUM = 1
    settings.LEDGER_WITNESS_TIMEOUT = 5
    try:
        for witness in pair:
            witness.start()
        # Both cosign checkpoint 5 (signed by the old key) before the rotation takes effect.
        checkpoint5 = LedgerCheckpoint.objects.get(tree_size=5)
        answers = {a.witness: a.outcome for a in witnesses.witness_checkpoints(wait=True)}
        assert set(answers.values()) == {"cosigned"}
        assert LedgerCosignature.objects.filter(checkpoint=checkpoint5).count() == 2

        nine = ledger.ledger_checkpoint_sign()
        answers = {a.witness: a for a in witnesses.witness_checkpoints(wait=True)}
        assert answers[both.name].outcome == "cosigned"
        assert answers[stale.name].outcome != "cosigned"
        assert "403" in answers[stale.name].detail
        cosigned_by = set(
            LedgerCosignature.objects.filter(checkpoint=nine).values_list(
                "witness__name", flat=True
            )
        )
        assert cosigned_by == {both.name}
        assert "\n5\n" in stale.state_note()  # the stale witness still holds size 5
        assert "\n9\n" in both.state_note()

        receipt = ledger.receipt(LedgerEntry.objects.get(index=8))
        path = tmp_path / "receipt.json"
        path.write_text(json.dumps(receipt))
        ok = _verify("receipt", path, "--key", new, "--witness", both.vkey)
        assert ok.returncode == 0, ok.stderr
        assert f"witnessed: cosigned by {both.name}" in ok.stdout
        short = _verify(
            "receipt", path, "--key", new, "--witness", both.vkey, "--witness", stale.vkey
        )
        assert short.returncode == 1
        assert "carries 1 valid cosignature(s) of the 2 required" in short.stderr
    finally:
        for witness in pair:
            witness.stop()


@pytest.mark.django_db
def test_a_receipt_whose_cosignature_was_tampered_fails_with_witness(rotated, settings, tmp_path):
    old, new = rotated
    witness = Witness(tmp_path, "health.gov/witness", [old, new])
    settings.LEDGER_WITNESSES = [f"{witness.vkey}={witness.url}"]
    settings.LEDGER_WITNESS_QUORUM = 1
    settings.LEDGER_WITNESS_TIMEOUT = 5
    try:
        witness.start()
        ledger.ledger_checkpoint_sign()
        witnesses.witness_checkpoints(wait=True)
    finally:
        witness.stop()
    receipt = ledger.receipt(LedgerEntry.objects.get(index=8))
    body, _, lines = receipt["checkpoint"].rpartition("\n\n")
    log_line, cosignature = lines.splitlines()
    name, encoded = cosignature[2:].split(" ")
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 1
    forged = f"\u2014 {name} {base64.b64encode(bytes(raw)).decode()}"
    receipt["checkpoint"] = f"{body}\n\n{log_line}\n{forged}\n"
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(receipt))
    result = _verify("receipt", path, "--key", new, "--witness", witness.vkey)
    assert result.returncode == 1
    assert "carries 0 valid cosignature(s) of the 1 required" in result.stderr
