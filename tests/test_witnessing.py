"""The portal and the departments' witnesses: real witness processes on loopback.

The cosignatures are checked here with a verifier written from C2SP tlog-cosignature (not the
project's code): key id = SHA-256(name ‖ "\\n" ‖ 0x04 ‖ key)[:4], signature = 8-byte big-endian
timestamp ‖ Ed25519 over "cosignature/v1\\ntime <t>\\n" ‖ checkpoint body.
"""

import base64
import datetime
import hashlib
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.utils import timezone
from rest_framework.test import APIClient

from audit.tasks import witness_alerts_send
from departments.models import Membership
from ledger import services as ledger
from ledger import witnesses
from ledger.models import LedgerCheckpoint, LedgerCosignature, LedgerWitness
from notifications.models import Notification
from tests.conftest import make_user

ROOT = Path(__file__).resolve().parent.parent
WITNESS = ROOT / "tools" / "govshare_witness.py"


_PORTS_GIVEN: set[int] = set()


def _free_port():
    """A free port never handed to another witness of this run. A witness binds its port only
    when started, so two witnesses made one after the other could be given the same free port:
    the second would then find the first answering there and take its cosignatures for its
    own ("answered 200 without a valid cosignature")."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in _PORTS_GIVEN:
            _PORTS_GIVEN.add(port)
            return port


class Witness:
    """One witness process: its key, state file and address."""

    def __init__(self, directory, name, log_vkey):
        self.directory, self.name = directory, name
        # One log key, or several (a key rotation: the witness trusts the old and the new).
        self.log_vkeys = [log_vkey] if isinstance(log_vkey, str) else list(log_vkey)
        self.key = directory / f"{name.replace('/', '_')}.key"
        self.state = directory / f"{name.replace('/', '_')}.state"
        out = subprocess.run(
            [sys.executable, str(WITNESS), "keygen", name, "--out", str(self.key)],
            capture_output=True,
            text=True,
            check=True,
        )
        self.vkey = out.stdout.strip().splitlines()[-1]
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(WITNESS),
                "serve",
                "--key",
                str(self.key),
                *(arg for vkey in self.log_vkeys for arg in ("--log-key", vkey)),
                "--state",
                str(self.state),
                "--listen",
                f"127.0.0.1:{self.port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"witness {self.name} did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def state_note(self):
        with urllib.request.urlopen(f"{self.url}/state", timeout=5) as reply:  # noqa: S310
            return reply.read().decode()


@pytest.fixture
def two_witnesses(tmp_path, settings):
    from ledger import keys

    log_vkey = keys.verifier_key()
    pair = [
        Witness(tmp_path, "health.gov/witness", log_vkey),
        Witness(tmp_path, "civil.gov/w", log_vkey),
    ]
    for witness in pair:
        witness.start()
    settings.LEDGER_WITNESSES = [f"{w.vkey}={w.url}" for w in pair]
    settings.LEDGER_WITNESS_QUORUM = 2
    settings.LEDGER_WITNESS_TIMEOUT = 5
    yield pair
    for witness in pair:
        witness.stop()


def _grow(count, start=0):
    for n in range(count):
        ledger.ledger_append(event="test.event", subject={"n": start + n})


def _spec_verify(vkey, body, line):
    """C2SP tlog-cosignature/v1 (Ed25519), from the specification text."""
    name, hex_id, encoded = vkey.split("+", 2)
    raw_key = base64.b64decode(encoded)
    assert raw_key[0] == 0x04 and len(raw_key) == 33
    key_id = hashlib.sha256(name.encode() + b"\n" + b"\x04" + raw_key[1:]).digest()[:4]
    assert key_id.hex() == hex_id
    assert line.startswith("\u2014 " + name + " ")
    sig = base64.b64decode(line.split(" ")[2])
    assert sig[:4] == key_id and len(sig) == 76
    timestamp = int.from_bytes(sig[4:12], "big")
    message = b"cosignature/v1\ntime " + str(timestamp).encode() + b"\n" + body.encode()
    Ed25519PublicKey.from_public_bytes(raw_key[1:]).verify(sig[12:], message)
    return timestamp


def _body(note):
    return note.rpartition("\n\n")[0] + "\n"


@pytest.mark.django_db
def test_an_honest_log_gets_both_cosignatures_and_serves_them(two_witnesses, reviewer):
    _grow(5)
    checkpoint = ledger.ledger_checkpoint_sign()
    answers = witnesses.witness_checkpoints(wait=True)
    assert sorted(a.outcome for a in answers) == ["cosigned", "cosigned"]
    assert witnesses.witnessed_size() == 5
    note = ledger.cosigned_note(checkpoint)
    lines = note.rpartition("\n\n")[2].splitlines()
    assert len(lines) == 3  # the log's signature and two cosignatures
    before = int(time.time()) - 5
    for witness in two_witnesses:
        (line,) = [x for x in lines if x.startswith("\u2014 " + witness.name + " ")]
        assert _spec_verify(witness.vkey, _body(note), line) >= before
    client = APIClient()
    client.force_authenticate(reviewer)
    served = client.get("/api/v1/ledger/checkpoint/")
    assert served.status_code == 200
    assert served.content.decode() == note
    assert served["X-Ledger-Witnessed-Size"] == "5"

    # The log grows: each witness gets the consistency proof from size 5.
    _grow(7, start=5)
    bigger = ledger.ledger_checkpoint_sign()
    answers = witnesses.witness_checkpoints(wait=True)
    assert sorted(a.outcome for a in answers) == ["cosigned", "cosigned"]
    assert LedgerCosignature.objects.filter(checkpoint=bigger).count() == 2
    assert witnesses.witnessed_size() == 12
    assert all(_body(w.state_note()).startswith(_body(bigger.note)) for w in two_witnesses)


@pytest.mark.django_db
def test_with_one_witness_down_appends_go_on_and_it_catches_up(two_witnesses, settings):
    health, civil = two_witnesses
    civil.stop()
    _grow(3)
    ledger.ledger_checkpoint_sign()
    answers = {a.witness: a.outcome for a in witnesses.witness_checkpoints(wait=True)}
    assert answers == {health.name: "cosigned", civil.name: "unreachable"}
    assert witnesses.witnessed_size() == 0  # quorum 2 not reached
    settings.LEDGER_WITNESS_QUORUM = 1
    assert witnesses.witnessed_size() == 3
    settings.LEDGER_WITNESS_QUORUM = 2
    down = LedgerWitness.objects.get(name=civil.name)
    assert down.failures == 1 and down.next_attempt_at > timezone.now()
    _grow(2, start=3)  # governance goes on while a witness is away
    ledger.ledger_checkpoint_sign()
    # Not due yet: the beat task leaves the witness that is backing off alone.
    due = {a.witness for a in witnesses.witness_checkpoints()}
    assert civil.name not in due
    civil.start()
    answers = {a.witness: a.outcome for a in witnesses.witness_checkpoints(wait=True)}
    assert answers[civil.name] == "cosigned"
    assert witnesses.witnessed_size() == 5
    assert LedgerWitness.objects.get(name=civil.name).failures == 0


@pytest.mark.django_db
def test_a_witness_that_lost_its_state_is_asked_again_from_its_real_size(two_witnesses):
    health, _civil = two_witnesses
    _grow(4)
    ledger.ledger_checkpoint_sign()
    witnesses.witness_checkpoints(wait=True)
    health.stop()
    health.state.unlink()
    health.start()
    _grow(1, start=4)
    ledger.ledger_checkpoint_sign()
    answers = {a.witness: a.outcome for a in witnesses.witness_checkpoints(wait=True)}
    assert answers[health.name] == "cosigned"  # after its 409 "size 0", from old 0
    assert witnesses.witnessed_size() == 5


@pytest.mark.django_db
def test_a_refused_honest_checkpoint_raises_an_alarm_to_office_and_auditors(
    two_witnesses, departments, reviewer
):
    auditor = make_user("auditor_w", departments["OFFICE"], Membership.Role.AUDITOR)
    health, _civil = two_witnesses
    _grow(3)
    ledger.ledger_checkpoint_sign()
    witnesses.witness_checkpoints(wait=True)
    # The portal's record of a checkpoint the witness never saw: its next request claims the
    # witness cosigned size 2, so the witness refuses with its real size 3 — a size the portal
    # did sign, so the portal asks again from 3 and gets the new cosignature.
    LedgerWitness.objects.filter(name=health.name).update(cosigned_size=2)
    _grow(1, start=3)
    ledger.ledger_checkpoint_sign()
    assert {a.witness: a.outcome for a in witnesses.witness_checkpoints(wait=True)}[
        health.name
    ] == "cosigned"
    # A fork: the log key signs a different root for the next size (the office rewrote it).
    _grow(1, start=4)
    from ledger import keys, signing

    forged = keys.signer().sign(signing.checkpoint_text("govshare.test/ledger", 5, b"\x07" * 32))
    LedgerCheckpoint.objects.create(tree_size=5, root_hash=b"\x07" * 32, note=forged)
    answers = {a.witness: a for a in witnesses.witness_checkpoints(wait=True)}
    assert answers[health.name].outcome == "alarm"
    row = LedgerWitness.objects.get(name=health.name)
    assert row.alarm and row.alarm_at is not None
    assert row.cosigned_size == 4  # the witness kept the honest tree
    assert witness_alerts_send() >= 2
    told = set(
        Notification.objects.filter(subject__contains="refused").values_list(
            "recipient__username", flat=True
        )
    )
    assert {reviewer.username, auditor.username} <= told
    assert witness_alerts_send() == 0  # once per alarm


@pytest.mark.django_db
def test_a_checkpoint_unwitnessed_too_long_alerts_the_office_once(settings, tmp_path, reviewer):
    from ledger import keys

    lone = Witness(tmp_path, "lone.gov/w", keys.verifier_key())  # never started
    settings.LEDGER_WITNESSES = [f"{lone.vkey}={lone.url}"]
    settings.LEDGER_WITNESS_QUORUM = 1
    settings.LEDGER_WITNESS_TIMEOUT = 1
    _grow(2)
    checkpoint = ledger.ledger_checkpoint_sign()
    witnesses.witness_checkpoints(wait=True)
    assert witness_alerts_send() == 0  # not late yet
    later = checkpoint.created_at + datetime.timedelta(seconds=settings.LEDGER_WITNESS_ALERT_AFTER)
    assert witness_alerts_send(now=later) == 1
    assert witness_alerts_send(now=later) == 0
    assert Notification.objects.filter(
        recipient=reviewer, subject__contains="witnessed up to size 0"
    ).exists()


@pytest.mark.django_db
def test_the_ledger_checkpoint_command_prints_each_witness_answer(two_witnesses, capsys):
    from django.core.management import call_command

    _grow(2)
    call_command("ledger_checkpoint")
    out = capsys.readouterr().out
    for witness in two_witnesses:
        assert f"witness {witness.name}: cosigned: cosigned size 2" in out
    assert "witnessed up to size 2 of 2 (quorum 2)" in out
