"""tools/govshare_witness.py: real witness processes against a log built with the portal's own
``ledger.signing`` and ``ledger.merkle`` (plain Python: no Django settings, no database).

Cosignatures are checked with ``tests/c2sp_reference.py``, an independent reading of C2SP
tlog-cosignature and signed-note, never with the tool's own code.
"""

import ast
import base64
import hashlib
import http.client
import importlib.util
import json
import os
import random
import re
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger import merkle, signing
from tests import c2sp_reference as ref

TOOL = Path(__file__).resolve().parent.parent / "tools" / "govshare_witness.py"
ORIGIN = "govshare.example.gov/ledger"
WITNESS_NAME = "witness.health.example.gov/w1"
READY_TIMEOUT = 15.0


# --- a log -------------------------------------------------------------------------------------


class Log:
    """An append-only RFC 9162 tree kept as the portal keeps it: every aligned subtree node."""

    def __init__(self, signer: signing.Signer, entries: Sequence[bytes] = ()) -> None:
        self.signer = signer
        self.origin = signer.name
        self.entries: list[bytes] = []
        self.nodes: dict[tuple[int, int], bytes] = {}
        for entry in entries:
            self.append(entry)

    def _node(self, level: int, index: int) -> bytes:
        return self.nodes[(level, index)]

    def append(self, entry: bytes) -> None:
        index = len(self.entries)
        self.entries.append(entry)
        for level, position, value in merkle.new_nodes(index, merkle.leaf_hash(entry), self._node):
            self.nodes[(level, position)] = value

    def grow_to(self, size: int, tag: str = "honest") -> None:
        while len(self.entries) < size:
            self.append(json.dumps({"index": len(self.entries), "tag": tag}).encode())

    def fork(self, keep: int, size: int, tag: str) -> "Log":
        """The same first ``keep`` entries, then different ones up to ``size``."""
        other = Log(self.signer, self.entries[:keep])
        other.grow_to(size, tag)
        return other

    def root(self, size: int) -> bytes:
        return merkle.root(self._node, size)

    def proof(self, old: int, size: int) -> list[bytes]:
        return [] if old == 0 else merkle.consistency_proof(self._node, old, size)

    def text(self, size: int) -> str:
        return signing.checkpoint_text(self.origin, size, self.root(size))

    def checkpoint(self, size: int, signers: Sequence[signing.Signer] | None = None) -> str:
        return sign_note(self.text(size), signers or [self.signer])

    def body(
        self,
        old: int,
        size: int,
        *,
        proof: Sequence[bytes] | None = None,
        signers: Sequence[signing.Signer] | None = None,
    ) -> bytes:
        return add_checkpoint_body(
            old, self.proof(old, size) if proof is None else proof, self.checkpoint(size, signers)
        )


def sign_note(text: str, signers: Sequence[signing.Signer]) -> str:
    """A note signed by each signer in turn (the portal's ``Signer.sign``, lines combined)."""
    return text + "\n" + "".join(s.sign(text)[len(text) + 1 :] for s in signers)


def add_checkpoint_body(old: int, proof: Sequence[bytes], note: str) -> bytes:
    lines = [f"old {old}\n", *(base64.b64encode(p).decode() + "\n" for p in proof), "\n"]
    return ("".join(lines) + note).encode()


# --- witness processes -------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    content_type: str
    body: str


class Witness:
    """One ``govshare_witness.py serve`` process on 127.0.0.1 with a port the OS picked."""

    count = 0

    def __init__(self, directory: Path, key: Path, log_keys: Sequence[str], state: Path) -> None:
        Witness.count += 1
        self.stderr_path = directory / f"witness-{Witness.count}.stderr"
        self.state_path = state
        arguments = [sys.executable, str(TOOL), "serve", "--key", str(key), "--state", str(state)]
        for log_key in log_keys:
            arguments += ["--log-key", log_key]
        arguments += ["--listen", "127.0.0.1:0"]
        with self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(
                arguments, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr
            )
        self.port = self._wait_ready()

    def _wait_ready(self) -> int:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            match = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", self.stderr())
            if match:
                return int(match.group(1))
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the witness exited ({self.process.returncode}):\n{self.stderr()}"
                )
            time.sleep(0.01)
        self.process.kill()
        raise AssertionError(f"the witness did not start in {READY_TIMEOUT} s:\n{self.stderr()}")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def refusals(self) -> list[str]:
        return [line for line in self.stderr().splitlines() if " refused " in line]

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        connection: http.client.HTTPConnection | None = None,
    ) -> Answer:
        conn = connection or self.connection()
        try:
            conn.request(method, path, body=body)
            response = conn.getresponse()
            data = response.read().decode()
            return Answer(response.status, response.getheader("Content-Type", ""), data)
        finally:
            if connection is None:
                conn.close()

    def post(self, body: bytes, connection: http.client.HTTPConnection | None = None) -> Answer:
        return self.request("POST", "/add-checkpoint", body, connection)

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def note(self, origin: str = ORIGIN) -> str | None:
        answer = self.get(f"/state?origin={quote(origin, safe='')}")
        if answer.status == 404:
            return None
        assert answer.status == 200, answer
        return answer.body

    def snapshot(self) -> tuple[str, str, str, bytes]:
        """Everything a refusal must leave unchanged: the views of the state, and the file."""
        everything = self.get("/state.json")
        assert everything.status == 200 and everything.content_type == "application/json"
        plain = self.get("/state")
        state = self.state_path.read_bytes()
        return everything.body, str(self.note()), f"{plain.status} {plain.body}", state

    def raw(self, data: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(data)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Setup:
    directory: Path
    key: Path
    vkey: str
    signer: signing.Signer
    started: list[Witness] = field(default_factory=list)

    @property
    def log_vkey(self) -> str:
        return self.signer.verifier_key()

    def witness(self, log_keys: Sequence[str] | None = None, state: Path | None = None) -> Witness:
        witness = Witness(
            self.directory,
            self.key,
            list(log_keys) if log_keys is not None else [self.log_vkey],
            state or self.directory / "state.json",
        )
        self.started.append(witness)
        return witness


def run_tool(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), *arguments],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=cwd,
        check=False,
    )


@pytest.fixture(scope="module")
def witness_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    directory = tmp_path_factory.mktemp("witness-key")
    result = run_tool(
        "keygen", WITNESS_NAME, "--out", str(directory / "witness.key"), cwd=directory
    )
    assert result.returncode == 0, result.stderr
    return directory / "witness.key", result.stdout.strip()


@pytest.fixture
def setup(tmp_path: Path, witness_key: tuple[Path, str]) -> Iterator[Setup]:
    key, vkey = witness_key
    here = Setup(tmp_path, key, vkey, signing.generate_signer(ORIGIN))
    yield here
    for witness in here.started:
        witness.stop()


def load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("govshare_witness_under_test", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


# --- 1. keygen ---------------------------------------------------------------------------------


def test_keygen_writes_a_0600_key_refuses_to_overwrite_and_prints_a_cosignature_vkey(
    tmp_path: Path,
) -> None:
    out = tmp_path / "w.key"
    result = run_tool("keygen", WITNESS_NAME, "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600

    vkey = result.stdout.strip()
    key = ref.parse_vkey(vkey)  # checks the key id against SHA-256(name || 0x0A || 0x04 || key)
    assert key.name == WITNESS_NAME
    assert key.key_type == ref.TYPE_COSIGNATURE
    assert vkey.split("+")[1] == key.key_id.hex()
    # The file: PRIVATE+KEY+<name>+<hex id>+base64(0x04 || seed), the seed of that public key.
    content = out.read_text()
    private, word, name, hex_id, encoded = content.strip().split("+", 4)  # base64 holds "+"
    assert (private, word, name, hex_id) == ("PRIVATE", "KEY", WITNESS_NAME, key.key_id.hex())
    raw = base64.b64decode(encoded, validate=True)
    assert raw[0] == 0x04 and len(raw) == 33
    public = Ed25519PrivateKey.from_private_bytes(raw[1:]).public_key()
    assert public.public_bytes(Encoding.Raw, PublicFormat.Raw) == key.public

    again = run_tool("keygen", WITNESS_NAME, "--out", str(out), cwd=tmp_path)
    assert again.returncode == 1
    assert "exists" in again.stderr and again.stdout == ""
    assert out.read_text() == content

    assert run_tool("vkey", "--key", str(out), cwd=tmp_path).stdout.strip() == vkey
    bad = run_tool("keygen", "has space", "--out", str(tmp_path / "x.key"), cwd=tmp_path)
    assert bad.returncode == 2 and not (tmp_path / "x.key").exists()


def test_reference_checks_agree_with_the_specification_examples() -> None:
    """The test's own C2SP reading reproduces the examples printed in the specifications."""
    assert ref.open_ed25519_note(ref.SIGNED_NOTE_EXAMPLE, ref.SIGNED_NOTE_VKEY) == (
        "This is an example message.\n"
    )
    name, kid, timestamp, signature = ref.decode_cosignature(ref.COSIGNATURE_EXAMPLE_LINE)
    assert name == "witness.example.com/w1"
    assert timestamp == ref.COSIGNATURE_EXAMPLE_TIME  # the example message's "time 1679315147"
    assert len(kid) == 4 and len(signature) == 64


def test_the_tool_uses_only_the_standard_library_and_cryptography() -> None:
    tree = ast.parse(TOOL.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module is not None
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"cryptography"}


def test_the_tools_consistency_check_accepts_exactly_the_portals_proofs() -> None:
    """RFC 9162 2.1.4.2 in the tool, against ledger.merkle's proofs for every pair up to 33."""
    tool = load_tool()
    log = Log(signing.generate_signer(ORIGIN))
    log.grow_to(33)
    for second in range(1, 34):
        for first in range(1, second + 1):
            proof = log.proof(first, second)
            old, new, wrong = log.root(first), log.root(second), b"\0" * 32
            assert tool.verify_consistency(first, second, proof, old, new), (first, second)
            assert not tool.verify_consistency(first, second, proof, wrong, new)
            assert not tool.verify_consistency(first, second, proof, old, wrong)
            if proof:
                assert not tool.verify_consistency(first, second, proof[:-1], old, new)
                assert not tool.verify_consistency(first, second, [*proof, old], old, new)
                flipped = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]
                assert not tool.verify_consistency(first, second, flipped, old, new)
    assert not tool.verify_consistency(0, 5, [], merkle.EMPTY_ROOT, log.root(5))
    assert not tool.verify_consistency(6, 5, log.proof(5, 6), log.root(6), log.root(5))


# --- 2. an honest log --------------------------------------------------------------------------


def test_an_honest_log_is_cosigned_at_every_step(setup: Setup) -> None:
    witness = setup.witness()
    log = Log(setup.signer)
    old, last_timestamp = 0, 0
    for size in [0, 5, 9, 9, 20]:
        log.grow_to(size)
        before = int(time.time())
        answer = witness.post(log.body(old, size))
        after = int(time.time())
        assert answer.status == 200, answer
        assert answer.content_type.startswith("text/plain")
        lines = answer.body.splitlines(keepends=True)
        assert len(lines) == 1 and lines[0].startswith("\u2014 " + WITNESS_NAME + " ")

        text = log.text(size)
        timestamp = ref.verify_cosignature(lines[0], text, setup.vkey)
        assert before <= timestamp <= after
        assert timestamp >= last_timestamp
        last_timestamp = timestamp
        # tlog-witness: "the client MAY concatenate it to the checkpoint" and verify it as a note.
        cosigned = log.checkpoint(size) + lines[0]
        assert signing.open_note(cosigned, setup.log_vkey) == text
        # The witness's record: the checkpoint, the log signature it verified, its cosignature.
        assert witness.note() == cosigned
        assert witness.get("/state").body == cosigned  # the one log this witness follows
        origin_hash = hashlib.sha256(ORIGIN.encode()).hexdigest()
        monitored = witness.get(f"/{origin_hash}/checkpoint")
        assert (monitored.status, monitored.body) == (200, cosigned)
        stored = json.loads(setup.directory.joinpath("state.json").read_text())["logs"][ORIGIN]
        assert stored["size"] == size
        assert stored["root"] == base64.b64encode(log.root(size)).decode()
        assert stored["checkpoint"] == cosigned
        old = size

    everything = json.loads(witness.get("/state.json").body)
    assert everything["witness"] == setup.vkey
    assert everything["logs"][ORIGIN]["size"] == 20
    assert witness.get("/state?origin=nobody.example/log").status == 404
    assert witness.get(f"/{'0' * 64}/checkpoint").status == 404
    assert witness.refusals() == []


# --- 3. refusals -------------------------------------------------------------------------------


def test_malformed_unknown_and_untrusted_checkpoints_are_refused(setup: Setup) -> None:
    witness = setup.witness()
    log = Log(setup.signer)
    log.grow_to(12)
    assert witness.post(log.body(0, 9)).status == 200
    snapshot = witness.snapshot()
    good = log.body(9, 12)
    proof = log.proof(9, 12)
    text = log.text(12)

    def refused(body: bytes, status: int) -> Answer:
        answer = witness.post(body)
        assert answer.status == status, (body[:200], answer)
        assert witness.snapshot() == snapshot, "a refusal changed the state"
        return answer

    # 404: an origin this witness does not follow.
    other = Log(signing.generate_signer("other.example.gov/ledger"))
    other.grow_to(3)
    refused(other.body(0, 3), 404)
    # 403: signed by an untrusted key with the log's very name (so a different key id) ...
    refused(log.body(9, 12, signers=[signing.generate_signer(ORIGIN)]), 403)
    # ... or changed after signing, or carrying a bad signature that claims the trusted key
    # next to a good one (tlog-witness: "a signature line's key name and ID match a trusted key
    # but the signature itself fails to verify").
    signed = log.checkpoint(12)
    refused(add_checkpoint_body(9, proof, signed.replace("\n12\n", "\n13\n")), 403)
    line = signed[len(text) + 1 :]
    name, raw = ref.split_signature_line(line)
    bad_line = f"\u2014 {name} {base64.b64encode(raw[:-1] + bytes([raw[-1] ^ 1])).decode()}\n"
    refused(add_checkpoint_body(9, proof, signed + bad_line), 403)
    refused(add_checkpoint_body(9, proof, text + "\n" + bad_line), 403)

    # 400: old > size, and malformed bodies.
    refused(log.body(12, 9, proof=[]), 400)
    malformed = [
        b"",
        b"\n",
        good.replace(b"\n\n", b"\n", 1),  # no empty line after the proof lines
        good.replace(b"old 9\n", b"old 09\n"),
        good.replace(b"old 9\n", b"old -9\n"),
        good.replace(b"old 9\n", b"Old 9\n"),
        good.replace(b"old 9\n", b"old 9 \n"),
        good.replace(b"old 9\n", b"old 9\n" + b"not base64!\n"),
        good.replace(b"old 9\n", b"old 9\n" + base64.b64encode(b"\1" * 31) + b"\n"),
        add_checkpoint_body(9, [b"\0" * 32] * 64, signed),  # 64 proof lines: at most 63
        add_checkpoint_body(9, proof, text),  # a checkpoint without signatures
        add_checkpoint_body(9, proof, sign_note(text.replace("\n12\n", "\n012\n"), [log.signer])),
        add_checkpoint_body(9, proof, sign_note(f"{ORIGIN}\n12\nAAAA\n", [log.signer])),
        add_checkpoint_body(9, proof, signed.replace("\u2014 ", "-- ")),
        add_checkpoint_body(9, proof, signed[:-1]),  # no final newline
        good.replace(b"\n", b"\r\n"),
        good + b"\xff",
        b"old 9\n\n" + b"\0" * 100,
    ]
    for body in malformed:
        refused(body, 400)
    # 63 proof lines are well-formed: they only fail to verify.
    refused(add_checkpoint_body(9, [b"\0" * 32] * 63, signed), 422)

    # HTTP-level: no Content-Length, chunked, too large, wrong path or method, garbage.
    request = b"POST /add-checkpoint HTTP/1.1\r\nHost: w\r\n"
    assert witness.raw(request + b"\r\n").startswith(b"HTTP/1.1 411 ")
    chunked = request + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    assert witness.raw(chunked).startswith(b"HTTP/1.1 411 ")
    assert witness.raw(request + b"Content-Length: 2097152\r\n\r\n").startswith(b"HTTP/1.1 413 ")
    assert witness.raw(request + b"Content-Length: x\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert b"Error code: 400" in witness.raw(b"garbage\r\n\r\n")  # http.server: HTTP/0.9 style
    assert witness.request("POST", "/add-checkpoint/", good).status == 404
    assert witness.request("GET", "/add-checkpoint").status == 405
    assert witness.request("PUT", "/add-checkpoint", good).status == 405
    assert witness.request("DELETE", "/state").status == 405
    assert witness.get("/state?origin=a&origin=b").status == 400
    assert witness.snapshot() == snapshot

    # None of these is evidence against the log; the honest next checkpoint is still cosigned.
    assert witness.refusals() == [line for line in witness.refusals() if " 422 " in line]
    assert len(witness.refusals()) == 1  # the 63 zero hashes: validly signed, inconsistent
    assert witness.post(good).status == 200
    assert witness.process.poll() is None


def test_stale_forked_and_inconsistent_checkpoints_are_refused_and_logged(setup: Setup) -> None:
    second = signing.generate_signer("second.example.gov/ledger")
    witness = setup.witness([setup.log_vkey, second.verifier_key()])
    log = Log(setup.signer)
    log.grow_to(20)
    assert witness.post(log.body(0, 9)).status == 200
    snapshot = witness.snapshot()
    several = witness.get("/state")  # two logs: which one?
    assert several.status == 400 and ORIGIN in several.body and second.name in several.body

    def refused(body: bytes, status: int, size: int | None = None) -> Answer:
        answer = witness.post(body)
        assert answer.status == status, answer
        if size is not None:
            assert answer.content_type == "text/x.tlog.size"
            assert answer.body == f"{size}\n"
        assert witness.snapshot() == snapshot, "a refusal changed the state"
        return answer

    # 409: the old size is not the size last cosigned (behind, ahead, or "old 0" to ask).
    refused(log.body(5, 12), 409, size=9)
    refused(log.body(12, 20), 409, size=9)
    refused(log.body(0, 12), 409, size=9)
    refused(log.body(5, 5), 409, size=9)  # a smaller tree
    # 409: the cosigned size with another root (a fork at the same size).
    fork = log.fork(6, 20, "fork")
    refused(fork.body(9, 9), 409, size=9)
    # 422: consistency proofs that do not verify.
    proof = log.proof(9, 20)
    refused(log.body(9, 20, proof=[proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]), 422)
    refused(log.body(9, 20, proof=proof[:-1]), 422)
    refused(log.body(9, 20, proof=[*proof, proof[0]]), 422)
    refused(log.body(9, 20, proof=[]), 422)
    refused(fork.body(9, 20), 422)  # the fork's own proof, from the fork's root at 9
    refused(log.body(9, 9, proof=[log.root(9)]), 422)  # same tree, but a proof where none fits
    # 422 for a log never cosigned: size 0 without the empty root; a proof from old size 0.
    other = Log(second)
    other.grow_to(3)
    empty_text = signing.checkpoint_text(second.name, 0, hashlib.sha256(b"x").digest())
    refused(add_checkpoint_body(0, [], sign_note(empty_text, [second])), 422)
    refused(other.body(0, 3, proof=[other.root(3)]), 422)
    refused(other.body(1, 3), 409, size=0)

    refusals = witness.refusals()
    assert len(refusals) == 14, "\n".join(refusals)
    for line in refusals:
        assert re.search(r" refused (409|422) ", line)
        assert re.search(
            r' origin="(govshare|second)\.example\.gov/ledger" old=\d+ size=\d+ ', line
        )
        assert "reason=" in line and "note=" in line
    assert any(f'origin="{ORIGIN}" old=5 size=12 ' in line for line in refusals)
    assert any(" refused 409 " in line and "old=9 size=9 " in line for line in refusals)
    # Refusals that prove nothing about the log are not logged as evidence.
    refused(log.body(9, 20, signers=[signing.generate_signer(ORIGIN)]), 403)
    refused(log.body(20, 9, proof=[]), 400)
    assert len(witness.refusals()) == 14
    # The honest log goes on.
    assert witness.post(log.body(9, 20)).status == 200
    assert witness.post(other.body(0, 3)).status == 200


# --- 4. concurrency ----------------------------------------------------------------------------


def race(witness: Witness, bodies: Sequence[bytes]) -> list[Answer | None]:
    """Post every body at once, each on a connection opened beforehand."""
    connections = [witness.connection() for _ in bodies]
    for connection in connections:
        connection.connect()
    barrier = threading.Barrier(len(bodies))
    answers: list[Answer | None] = [None] * len(bodies)

    def send(i: int) -> None:
        barrier.wait(timeout=10)
        answers[i] = witness.post(bodies[i], connections[i])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for connection in connections:
        connection.close()
    return answers


def test_concurrent_requests_from_the_same_old_size_cosign_exactly_one_tree(setup: Setup) -> None:
    witness = setup.witness()
    log = Log(setup.signer)
    log.grow_to(5)
    assert witness.post(log.body(0, 5)).status == 200
    known = 5
    for round_number in range(6):
        candidates = [
            log.fork(known, known + 1 + (i % 3), f"round {round_number} candidate {i}")
            for i in range(6)
        ]
        answers = race(witness, [c.body(known, len(c.entries)) for c in candidates])
        statuses = [answer.status if answer else None for answer in answers]
        assert statuses.count(200) == 1, statuses
        winner = candidates[statuses.index(200)]
        won_size = len(winner.entries)
        for answer in answers:
            assert answer is not None
            if answer.status != 200:
                assert (answer.status, answer.body) == (409, f"{won_size}\n")
        note = witness.note()
        assert note is not None and note.startswith(winner.text(won_size))
        log, known = winner, won_size


# --- 5. SIGKILL --------------------------------------------------------------------------------


@dataclass
class Run:
    """What one sender saw between a witness start and its SIGKILL."""

    cosigned: list[tuple[int, bytes, str]] = field(default_factory=list)  # size, root, line
    unexpected: list[str] = field(default_factory=list)


def send_until_killed(witness: Witness, log: Log, known: int, run: Run, seed: int) -> None:
    """Grow the log and post checkpoint after checkpoint, with a fork attempt now and then."""
    rng = random.Random(seed)
    connection = witness.connection()
    try:
        for number in range(1, 100_000):
            if number % 4 == 0:  # a fork at the size just cosigned: never to be cosigned
                fork = log.fork(known - 1, known, f"fork {seed} {number}")
                answer = witness.post(fork.body(known, known), connection)
                if answer.status != 409:
                    run.unexpected.append(f"fork at {known}: {answer}")
                continue
            size = known + rng.randint(1, 3)
            log.grow_to(size)
            answer = witness.post(log.body(known, size), connection)
            if answer.status == 200:
                run.cosigned.append((size, log.root(size), answer.body))
                known = size
            else:
                run.unexpected.append(f"{known} -> {size}: {answer}")
                return
    except (OSError, http.client.HTTPException):
        return  # killed
    finally:
        connection.close()


def cosigned_state(witness: Witness, log: Log) -> tuple[int, bytes]:
    note = witness.note()
    assert note is not None
    text = ref.open_ed25519_note(note, log.signer.verifier_key())
    origin, size, root_b64 = text.splitlines()
    assert origin == ORIGIN
    return int(size), base64.b64decode(root_b64)


def test_a_witness_killed_at_any_point_never_rolls_back_or_forks(setup: Setup) -> None:
    rng = random.Random(20260706)
    log = Log(setup.signer)
    log.grow_to(3)
    first = setup.witness()
    assert first.post(log.body(0, 3)).status == 200
    first.kill()
    history: list[tuple[int, bytes, str]] = []  # every 200, in order, across all restarts
    largest = 3
    for trial in range(20):
        witness = setup.witness()
        size, root = cosigned_state(witness, log)
        # Nothing answered 200 is lost; what is kept is the honest log's tree at that size.
        assert size >= largest, (trial, size, largest)
        assert root == log.root(size)
        # Replays after the restart: an older tree, a fork at the cosigned size, a forked
        # extension: none is cosigned, and the state does not move.
        older = rng.choice([s for s, _, _ in history] or [3])
        if older < size:
            answer = witness.post(log.body(older, older))
            assert (answer.status, answer.body) == (409, f"{size}\n")
        answer = witness.post(log.fork(size - 1, size, f"replay {trial}").body(size, size))
        assert (answer.status, answer.body) == (409, f"{size}\n")
        fork = log.fork(size - 1, size + 2, f"replay {trial}")
        assert witness.post(fork.body(size, size + 2)).status == 422
        assert cosigned_state(witness, log) == (size, root)

        run = Run()
        sender = threading.Thread(target=send_until_killed, args=(witness, log, size, run, trial))
        sender.start()
        time.sleep(rng.uniform(0.0, 0.25))  # a random kill point: SIGKILL, wherever it is
        witness.kill()
        sender.join(timeout=30)
        assert not sender.is_alive()
        assert run.unexpected == [], run.unexpected
        history += run.cosigned
        if run.cosigned:
            largest = max(largest, max(s for s, _, _ in run.cosigned))

    final = setup.witness()
    size, root = cosigned_state(final, log)
    assert size >= largest and root == log.root(size)
    assert len(history) > 40, "the senders barely ran: the kills proved little"
    sizes = [s for s, _, _ in history]
    assert sizes == sorted(sizes), "a 200 for a smaller tree after a larger one"
    timestamps = []
    for cosigned_size, cosigned_root, line in history:
        assert cosigned_root == log.root(cosigned_size)
        timestamps.append(ref.verify_cosignature(line, log.text(cosigned_size), setup.vkey))
    assert timestamps == sorted(timestamps)
    leftovers = [p.name for p in setup.directory.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


# --- 6. key rotation and other signatures ------------------------------------------------------


def test_any_configured_log_key_may_sign_and_other_signatures_are_ignored(setup: Setup) -> None:
    old_key, new_key = setup.signer, signing.generate_signer(ORIGIN)
    renamed = signing.generate_signer("govshare-ledger-2027")
    witness = setup.witness(
        [old_key.verifier_key(), new_key.verifier_key(), f"{ORIGIN} {renamed.verifier_key()}"]
    )
    log = Log(old_key)
    log.grow_to(12)
    assert witness.post(log.body(0, 3, signers=[new_key])).status == 200  # the second key alone
    assert witness.post(log.body(3, 5, signers=[old_key])).status == 200
    assert witness.post(log.body(5, 7, signers=[new_key, old_key])).status == 200
    assert witness.post(log.body(7, 8, signers=[renamed])).status == 200  # "ORIGIN VKEY"
    # Other witnesses' cosignatures and unknown keys ride along and are ignored ...
    other_witness = f"\u2014 witness.civil.example.gov/w1 {base64.b64encode(b'x' * 76).decode()}\n"
    stranger = signing.generate_signer("someone.example/else")
    note = sign_note(log.text(10), [stranger, new_key]) + other_witness
    answer = witness.post(add_checkpoint_body(8, log.proof(8, 10), note))
    assert answer.status == 200, answer
    ref.verify_cosignature(answer.body, log.text(10), setup.vkey)
    # ... and kept out of the witness's record, which holds only what it verified.
    assert witness.note() == sign_note(log.text(10), [new_key]) + answer.body
    # A key that is not configured does not count, whatever its name.
    assert witness.post(log.body(10, 12, signers=[stranger])).status == 403
    elsewhere = Log(stranger)
    assert witness.post(elsewhere.body(0, 0)).status == 404
    assert witness.post(log.body(10, 12, signers=[signing.generate_signer(ORIGIN)])).status == 403


# --- startup -----------------------------------------------------------------------------------


def test_the_witness_refuses_to_start_on_a_bad_state_bad_keys_or_a_second_instance(
    setup: Setup,
) -> None:
    state = setup.directory / "state.json"
    arguments = ["serve", "--key", str(setup.key), "--state", str(state)]
    arguments += ["--log-key", setup.log_vkey, "--listen", "127.0.0.1:0"]
    running = setup.witness()
    assert running.post(Log(setup.signer).body(0, 0)).status == 200
    second = run_tool(*arguments, cwd=setup.directory)
    assert second.returncode == 2 and "another witness" in second.stderr
    running.stop()

    good = state.read_text()
    state.write_text(good.replace('"size": 0', '"size": 7'))
    corrupt = run_tool(*arguments, cwd=setup.directory)
    assert corrupt.returncode == 1 and "does not parse" in corrupt.stderr
    state.write_text("{")
    assert run_tool(*arguments, cwd=setup.directory).returncode == 1
    state.write_text(good)

    cosigner_as_log_key = [*arguments[:-4], "--log-key", setup.vkey, "--listen", "127.0.0.1:0"]
    assert run_tool(*cosigner_as_log_key, cwd=setup.directory).returncode == 2
    log_key = setup.log_vkey
    tampered = log_key[:-2] + ("A" if log_key[-2] != "A" else "B") + log_key[-1]
    bad_key = [*arguments[:-4], "--log-key", tampered, "--listen", "127.0.0.1:0"]
    assert run_tool(*bad_key, cwd=setup.directory).returncode == 2
    not_a_key = setup.directory / "nokey"
    not_a_key.write_text("PRIVATE+KEY+x+00000000+AAAA\n")
    os.chmod(not_a_key, 0o600)
    no_key = ["serve", "--key", str(not_a_key), *arguments[3:]]
    assert run_tool(*no_key, cwd=setup.directory).returncode == 2
    assert run_tool(*arguments[:-1], "127.0.0.1", cwd=setup.directory).returncode == 2
    restarted = setup.witness()
    assert restarted.note() == json.loads(good)["logs"][ORIGIN]["checkpoint"]


def test_mutated_bodies_are_refused_with_a_4xx_never_an_exception(tmp_path: Path) -> None:
    """In-process fuzzing of the tool's add-checkpoint: every mutation is a cosignature or a
    refusal with a 4xx status, never another exception (which the server would answer 500)."""
    tool = load_tool()
    signer = signing.generate_signer(ORIGIN)
    generated = tool.CosigningKey(WITNESS_NAME, Ed25519PrivateKey.generate())
    key = tool.CosigningKey.from_string(generated.to_string())
    witness = tool.Witness(key, [tool.parse_log_key(signer.verifier_key())], tmp_path / "s.json")
    log = Log(signer)
    log.grow_to(40)
    witness.add_checkpoint(log.body(0, 7))
    seeds = [log.body(7, 40), log.body(7, 7), log.body(0, 3), log.body(7, 12, proof=[])]
    rng = random.Random(9162)
    alphabet = b"\n \x00\xe2\x80\x94+/=0123456789oldAZaz\r\xff"
    statuses: set[int] = set()
    for _ in range(3000):
        body = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            position = rng.randrange(len(body) + 1)
            choice = rng.random()
            if choice < 0.4:
                body[position : position + 1] = bytes([rng.choice(alphabet)])
            elif choice < 0.7:
                del body[position : position + rng.randint(1, 40)]
            else:
                body[position:position] = bytes(rng.choice(alphabet) for _ in range(3))
        try:
            witness.add_checkpoint(bytes(body))
            statuses.add(200)
        except tool.Refusal as refusal:
            assert refusal.status in {400, 403, 404, 409, 422}, refusal.status
            statuses.add(refusal.status)
    assert {400, 403, 422} <= statuses, statuses
