#!/usr/bin/env python3
"""A witness for the govshare ledger (C2SP tlog-witness, tlog-cosignature), without govshare.

Needs only Python 3.11 and the ``cryptography`` package (for Ed25519), on Linux or another Unix::

    python -m venv v && v/bin/pip install cryptography
    v/bin/python govshare_witness.py keygen NAME --out FILE
    v/bin/python govshare_witness.py vkey --key FILE
    v/bin/python govshare_witness.py serve --key FILE --log-key VKEY [--log-key VKEY ...] \\
        --state FILE --listen HOST:PORT

What a witness promises
-----------------------
For every log it follows (a log is named by the *origin* line of its checkpoints), the witness
cosigns a checkpoint only when the log's own key signed it and it is consistent with the largest
checkpoint the witness cosigned before: the same tree or an extension of it, shown by an RFC 9162
consistency proof. So it never cosigns a smaller tree, and never two different roots for one size.
Its cosignature (``cosignature/v1``, C2SP tlog-cosignature) states: "as of this time, the largest
consistent tree I have seen for this log has this root". A checkpoint carrying the cosignatures of
enough departments' witnesses cannot have been forked or rolled back by the portal alone — not even
by the data management office, which runs the portal and holds the log key.

Commands
--------
``keygen NAME --out FILE`` makes an Ed25519 cosigning key named NAME (a schema-less URL such as
``witness.health.example.gov/w1``: no spaces, no ``+``), writes it to FILE with mode 0600 (never
over an existing file) and prints its verifier key::

    NAME+<hex key id>+base64(0x04 || 32-byte Ed25519 public key)

The key id is SHA-256(NAME || "\\n" || 0x04 || public key)[:4] (signature type 0x04: timestamped
Ed25519 witness cosignatures). FILE holds one line, in the signed-note private key layout the
portal's ledger key uses, with the cosignature type byte::

    PRIVATE+KEY+NAME+<hex key id>+base64(0x04 || 32-byte Ed25519 seed)

``vkey --key FILE`` prints the verifier key of a key file again.

``serve`` runs the witness over HTTP (``--listen 127.0.0.1:0`` picks a free port; the address is
printed on stderr as ``... listening on http://HOST:PORT/``):

- ``--key FILE``: the witness's key (from ``keygen``).
- ``--log-key VKEY``, repeatable: a log's Ed25519 signed-note verifier key
  ``name+<hex key id>+base64(0x01 || public key)``, as the portal serves it at
  ``/api/v1/ledger/key/``. The log's origin is the key's name (the portal names its key after its
  origin); for a key with another name give ``--log-key "ORIGIN VKEY"``. Several keys for one
  origin are all trusted (key rotation): a checkpoint needs a valid signature by any one of them.
- ``--state FILE``: the witness's memory, see below. Created on the first cosignature.
- ``--max-body BYTES`` (default 1 MiB), ``--verbose`` (an access log on stderr).

HTTP interface
--------------
``POST /add-checkpoint`` is C2SP tlog-witness add-checkpoint: the body is ``old N``, up to 63
base64 consistency proof lines, an empty line and the signed checkpoint note. Answers:

- 200 ``text/plain``: the witness's ``cosignature/v1`` signature line, to append to the note;
- 400 malformed body (old line, proof lines, note or checkpoint), or old size > checkpoint size;
- 403 no signature by a trusted key of the origin, or such a signature that does not verify;
- 404 the origin is not one this witness follows;
- 409 ``text/x.tlog.size``, body ``<size>\\n``, the size this witness last cosigned for the origin
  (0 if none): the old size is not that size, or it is and so is the checkpoint's, but with a
  different root hash (a fork);
- 422 the consistency proof does not verify, a proof was sent with old size 0, or a checkpoint
  of size 0 does not have the empty tree's root;
- 405 another method; 411 no ``Content-Length`` (chunked bodies included); 413 a body over
  ``--max-body``.

The checks follow tlog-witness v1.0.0, whose order they keep (400 parse, 404, 403, 400 old size,
409, 422), with the later clarifications of the specification's main branch that do not
contradict it: 403 also for a bad signature by a trusted key, 422 for size 0 without the empty
root and for a proof sent with old size 0. One difference remains: the main branch answers a
different root at the cosigned size with 422, v1.0.0 (and this witness) with 409, whose body is
then the cosigned size, the same as the checkpoint's.

Refused checkpoints whose log signature is valid (409, 422: evidence that the log misbehaved, or
that it is only behind) are logged on stderr, one line each, with the origin, the sizes, the
reason and the signed note itself.

``GET /state?origin=ORIGIN`` answers the latest cosigned checkpoint of that log (``text/plain``:
the checkpoint, the log signature(s) the witness verified and the witness's own cosignature line),
or 404 if it has cosigned none. ``GET /state`` without ``origin`` answers the same for the one
log a witness follows, or 400 naming the origins if it follows several. ``GET /state.json``
answers every log as JSON: ``{"witness": VKEY, "logs": {ORIGIN: {"size": N, "root": BASE64,
"timestamp": T, "checkpoint": NOTE}}}``. ``GET /<hex SHA-256 of the origin>/checkpoint`` answers
the same note as ``/state?origin=`` (the tlog-witness monitoring interface).

The state file
--------------
JSON, ``{"format": "govshare-witness-state/1", "witness": VKEY, "logs": {ORIGIN: {"size": N,
"root": BASE64, "timestamp": T, "checkpoint": NOTE}}}``: per log, the size and root of the
latest cosigned checkpoint, the time of that cosignature and the cosigned note. It is replaced
atomically (temporary file in the same directory, fsync, rename, fsync of the directory) before a
cosignature is answered, under a per-log lock, so a witness killed at any moment and restarted
never cosigns a smaller tree, or another root for a size it already cosigned. A state file that
does not parse stops the witness from starting; a second witness on the same state file is
refused (``FILE.lock``). Never edit the state file or start again without it: a witness that
has lost its state can no longer keep its promise, so make a new key (and announce it) instead.

How a department runs it
------------------------
1. ``govshare_witness.py keygen witness.<dept>.example.gov/w1 --out /etc/govshare/witness.key``
2. Send the printed verifier key to the data management office (for the portal's
   ``LEDGER_WITNESSES``) and publish it for auditors (``govshare_verify.py --witness VKEY``).
3. Fetch the ledger's verifier key from the portal (``GET /api/v1/ledger/key/``) and compare it
   with the one the office published out of band.
4. Run ``serve --key /etc/govshare/witness.key --log-key LEDGER_VKEY --state
   /var/lib/govshare-witness/state.json --listen 0.0.0.0:8420`` under a service manager
   (restart on failure), reachable from the portal (and monitors, for ``GET``) only.
5. When the office rotates the ledger key, add the new key as a second ``--log-key`` first, and
   remove the old one only once the portal no longer signs with it.

Exit status: 0 on success, 1 on an error (the message says which), 2 on a usage error.
"""

import argparse
import base64
import binascii
import contextlib
import fcntl
import hashlib
import http.server
import json
import os
import re
import socket
import socketserver
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qs, urlsplit

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )
except ImportError:  # pragma: no cover - exercised by hand
    sys.stderr.write(
        "govshare_witness: needs the 'cryptography' package (pip install cryptography)\n"
    )
    sys.exit(2)

PROG = "govshare_witness"
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space start every signature line
TYPE_ED25519 = 0x01  # signed-note: Ed25519 signatures (the log's checkpoint signatures)
TYPE_COSIGNATURE_V1 = 0x04  # signed-note: timestamped Ed25519 witness cosignatures
HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
MAX_PROOF_LINES = 63  # tlog-witness: "The client MUST NOT send more than 63 proof lines."
MAX_SIGNATURES = 64  # signed-note: verifiers "MUST accept at least up to 16 signatures"
MAX_BODY = 1 << 20
MAX_INT63 = (1 << 63) - 1  # the largest tree size and cosignature timestamp accepted
# Another root at the size already cosigned: 409 in tlog-witness v1.0.0 (body: that size),
# 422 on the specification's main branch since July 2026 (PR #280).
FORK_STATUS = 409
STATE_FORMAT = "govshare-witness-state/1"
SIZE_CONTENT_TYPE = "text/x.tlog.size"
TEXT = "text/plain; charset=utf-8"
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")  # ASCII control characters but newline
_ORIGIN_HASH_PATH = re.compile(r"/([0-9a-f]{64})/checkpoint")
_stderr_lock = threading.Lock()


def log(message: str) -> None:
    with _stderr_lock:
        print(f"{PROG}: {message}", file=sys.stderr, flush=True)


class UsageError(Exception):
    """Bad configuration or arguments (exit status 2)."""


class Refusal(Exception):
    """An add-checkpoint request the witness does not cosign: the HTTP answer."""

    def __init__(self, status: int, reason: str, *, size: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.size = size  # for 409: the size last cosigned, the answer's body

    def body(self) -> tuple[bytes, str]:
        if self.size is not None:
            return f"{self.size}\n".encode(), SIZE_CONTENT_TYPE
        return f"{self.reason}\n".encode(), TEXT


def b64decode(text: str) -> bytes:
    """Strict standard base64 (RFC 4648 section 4); ValueError otherwise."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("not valid base64") from exc


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def valid_key_name(name: str) -> bool:
    """signed-note: key names are non-empty, without Unicode spaces or '+'."""
    return (
        bool(name)
        and "+" not in name
        and not any(c.isspace() for c in name)
        and not _CONTROL.search(name)
    )


def key_id(name: str, key_type: int, public_raw: bytes) -> bytes:
    """signed-note: SHA-256(key name || 0x0A || signature type || public key)[:4]."""
    data = name.encode("utf-8") + b"\n" + bytes([key_type]) + public_raw
    return hashlib.sha256(data).digest()[:4]


def raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


# --- RFC 9162 consistency proofs -------------------------------------------------------------


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_consistency(
    first: int, second: int, proof: Sequence[bytes], first_root: bytes, second_root: bytes
) -> bool:
    """RFC 9162 section 2.1.4.2: is ``proof`` a consistency proof from (first, first_root) to
    (second, second_root)?"""
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    # 1. If first is an exact power of 2, prepend first_hash to the consistency_path array.
    path = [first_root, *proof] if first & (first - 1) == 0 else list(proof)
    # 2. fn = first - 1, sn = second - 1; 3. right-shift both while LSB(fn) is set.
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 4. fr = sr = the first value in the consistency_path array.
    fr = sr = path[0]
    # 5. For each subsequent value c in the consistency_path array:
    for c in path[1:]:
        if sn == 0:  # a. if sn is 0, stop the iteration and fail the proof verification
            return False
        if fn & 1 or fn == sn:  # b. if LSB(fn) is set, or if fn is equal to sn, then:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:  # until either LSB(fn) is set or fn is 0
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1  # c. finally, right-shift both fn and sn one time
        sn >>= 1
    # 6. fr == first_hash, sr == second_hash and sn == 0.
    return sn == 0 and fr == first_root and sr == second_root


# --- keys --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogKey:
    """A trusted Ed25519 signed-note verifier key of a log."""

    origin: str
    name: str
    key_id: bytes
    public_key: Ed25519PublicKey
    text: str


def parse_vkey(text: str, key_type: int) -> tuple[str, bytes, bytes]:
    """``(name, key id, raw public key)`` of a signed-note verifier key
    ``<name>+<hex key id>+base64(<type> || public key)``; UsageError otherwise."""
    parts = text.strip().split("+", 2)  # the base64 key may itself contain "+"
    if len(parts) != 3:
        raise UsageError(f"{text!r} is not a verifier key (<name>+<hex key id>+<base64 key>)")
    name, hex_id, encoded = parts
    if not valid_key_name(name):
        raise UsageError(f"{text!r}: a key name is non-empty, without spaces or '+'")
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise UsageError(f"{text!r}: the key id is not 8 lowercase hex digits")
    try:
        raw = b64decode(encoded)
    except ValueError:
        raise UsageError(f"{text!r}: the key is not valid base64") from None
    if len(raw) != 33 or raw[0] != key_type:
        raise UsageError(f"{text!r}: not an Ed25519 key of signature type 0x{key_type:02x}")
    if key_id(name, key_type, raw[1:]).hex() != hex_id:
        raise UsageError(f"{text!r}: the key id does not match the key")
    return name, bytes.fromhex(hex_id), raw[1:]


def parse_log_key(argument: str) -> LogKey:
    """``--log-key VKEY`` (origin = the key's name) or ``--log-key "ORIGIN VKEY"``."""
    origin, _, vkey = argument.strip().rpartition(" ")  # a vkey holds no space
    name, kid, public = parse_vkey(vkey, TYPE_ED25519)
    origin = origin.strip() or name
    if "\n" in origin or _CONTROL.search(origin):
        raise UsageError(f"--log-key {argument!r}: the origin has a control character")
    return LogKey(origin, name, kid, Ed25519PublicKey.from_public_bytes(public), vkey)


@dataclass(frozen=True)
class CosigningKey:
    """The witness's own key: Ed25519, signing ``cosignature/v1`` messages."""

    name: str
    private_key: Ed25519PrivateKey

    @property
    def public_raw(self) -> bytes:
        return raw_public(self.private_key.public_key())

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, TYPE_COSIGNATURE_V1, self.public_raw)

    def verifier_key(self) -> str:
        encoded = b64encode(bytes([TYPE_COSIGNATURE_V1]) + self.public_raw)
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def to_string(self) -> str:
        seed = self.private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        encoded = b64encode(bytes([TYPE_COSIGNATURE_V1]) + seed)
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def from_string(cls, text: str) -> "CosigningKey":
        parts = text.strip().split("+", 4)  # base64 may itself contain "+"
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise UsageError("not a witness key (expected PRIVATE+KEY+<name>+<id>+<key>)")
        _private, _key, name, hex_id, encoded = parts
        if not valid_key_name(name):
            raise UsageError("the key name is not valid")
        try:
            raw = b64decode(encoded)
        except ValueError:
            raise UsageError("the key is not valid base64") from None
        if len(raw) != 33 or raw[0] != TYPE_COSIGNATURE_V1:
            raise UsageError("not an Ed25519 cosignature key (type 0x04)")
        key = cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if key.key_id.hex() != hex_id:
            raise UsageError("the key id does not match the key")
        return key

    def cosign(self, checkpoint_text: str, timestamp: int) -> str:
        """The ``cosignature/v1`` note signature line over a checkpoint (C2SP tlog-cosignature):
        Ed25519 over ``cosignature/v1\\ntime <timestamp>\\n<checkpoint text>``, encoded as
        base64(key id || u64 big-endian timestamp || 64-byte signature)."""
        if not 0 < timestamp <= MAX_INT63:
            raise ValueError("the timestamp is not a positive 63-bit number")
        message = f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode()
        signature = self.private_key.sign(message)
        encoded = b64encode(self.key_id + timestamp.to_bytes(8, "big") + signature)
        return f"{SIGNATURE_PREFIX}{self.name} {encoded}\n"


# --- requests ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    line: str  # the whole line, with its newline
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Checkpoint:
    text: str  # the note text: origin, size, root and extension lines, each ending in "\n"
    origin: str
    size: int
    root: bytes
    signatures: tuple[Signature, ...]


@dataclass(frozen=True)
class AddCheckpoint:
    old: int
    proof: tuple[bytes, ...]
    checkpoint: Checkpoint
    note: str


def _bad(reason: str) -> NoReturn:
    raise Refusal(400, reason)


def parse_size(text: str, what: str) -> int:
    if not _DECIMAL.fullmatch(text) or int(text) > MAX_INT63:
        _bad(f"{what} is not a decimal number without leading zeroes")
    return int(text)


def parse_note(note: str) -> Checkpoint:
    """A signed note (C2SP signed-note) whose text is a checkpoint (C2SP tlog-checkpoint)."""
    if not note.endswith("\n"):
        _bad("malformed note: it does not end with a newline")
    split = note.rfind("\n\n")  # the text ends at the last empty line
    if split < 0:
        _bad("malformed note: no empty line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        _bad("malformed note: no signature lines")
    signatures: list[Signature] = []
    for line in block[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            _bad("malformed note: a signature line does not start with an em dash and a space")
        name, space, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not space or not valid_key_name(name):
            _bad("malformed note: a signature line has no valid key name")
        try:
            raw = b64decode(encoded)
        except ValueError:
            _bad("malformed note: a signature is not valid base64")
        if len(raw) < 5:
            _bad("malformed note: a signature is shorter than a key id")
        signatures.append(Signature(line + "\n", name, raw[:4], raw[4:]))
        if len(signatures) > MAX_SIGNATURES:
            _bad(f"malformed note: more than {MAX_SIGNATURES} signatures")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not all(lines):
        _bad("malformed checkpoint: it is not three or more non-empty lines")
    size = parse_size(lines[1], "the checkpoint's tree size")
    try:
        root = b64decode(lines[2])
    except ValueError:
        _bad("malformed checkpoint: the root hash is not valid base64")
    if len(root) != HASH_SIZE:
        _bad("malformed checkpoint: the root hash is not 32 bytes")
    return Checkpoint(text, lines[0], size, root, tuple(signatures))


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """The add-checkpoint body (C2SP tlog-witness): ``old N``, proof lines, an empty line and a
    signed checkpoint; Refusal(400) when it is malformed."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        _bad("the body is not UTF-8")
    if _CONTROL.search(text):
        _bad("the body holds a control character other than newline")
    head, blank, note = text.partition("\n\n")  # the first empty line ends the proof lines
    if not blank:
        _bad("no empty line between the old size and proof lines and the checkpoint")
    lines = head.split("\n")
    if not lines[0].startswith("old "):
        _bad("the first line is not 'old <size>'")
    old = parse_size(lines[0][4:], "the old size")
    if len(lines) - 1 > MAX_PROOF_LINES:
        _bad(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof: list[bytes] = []
    for line in lines[1:]:
        try:
            node = b64decode(line)
        except ValueError:
            _bad("a consistency proof line is not valid base64")
        if len(node) != HASH_SIZE:
            _bad("a consistency proof line is not a 32-byte hash")
        proof.append(node)
    return AddCheckpoint(old, tuple(proof), parse_note(note), note)


def verified_log_signatures(checkpoint: Checkpoint, keys: Sequence[LogKey]) -> list[str]:
    """The signature lines by trusted log keys, all verified; Refusal(403) if there is none, or
    if one whose name and key id match a trusted key does not verify. Other lines are ignored."""
    verified: list[str] = []
    message = checkpoint.text.encode("utf-8")
    for signature in checkpoint.signatures:
        for key in keys:
            if signature.name != key.name or signature.key_id != key.key_id:
                continue
            try:
                if len(signature.signature) != 64:
                    raise InvalidSignature
                key.public_key.verify(signature.signature, message)
            except InvalidSignature:
                raise Refusal(
                    403, f"the signature by the log key {key.name}+{key.key_id.hex()} is invalid"
                ) from None
            if signature.line not in verified:
                verified.append(signature.line)
            break
    if not verified:
        raise Refusal(403, "no signature by a trusted key of this log")
    return verified


# --- state -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogState:
    """What the witness last cosigned for one log."""

    size: int
    root: bytes
    timestamp: int
    checkpoint: str  # the checkpoint, the verified log signatures and the cosignature

    def to_json(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "root": b64encode(self.root),
            "timestamp": self.timestamp,
            "checkpoint": self.checkpoint,
        }


class StateError(Exception):
    pass


def _state_entry(origin: str, value: object) -> LogState:
    if not isinstance(value, dict):
        raise StateError(f"log {origin!r}: not an object")
    size, root, stamp, note = (value.get(k) for k in ("size", "root", "timestamp", "checkpoint"))
    if type(size) is not int or not 0 <= size <= MAX_INT63:
        raise StateError(f"log {origin!r}: size is not a tree size")
    if type(stamp) is not int or not 0 <= stamp <= MAX_INT63:
        raise StateError(f"log {origin!r}: timestamp is not a number")
    if not isinstance(root, str) or not isinstance(note, str):
        raise StateError(f"log {origin!r}: root and checkpoint are not strings")
    try:
        root_hash = b64decode(root)
        checkpoint = parse_note(note)
    except (ValueError, Refusal) as exc:
        raise StateError(f"log {origin!r}: {exc}") from None
    if len(root_hash) != HASH_SIZE:
        raise StateError(f"log {origin!r}: root is not 32 bytes")
    if (checkpoint.origin, checkpoint.size, checkpoint.root) != (origin, size, root_hash):
        raise StateError(f"log {origin!r}: the stored checkpoint does not match size and root")
    return LogState(size, root_hash, stamp, note)


def load_state(path: Path) -> tuple[str | None, dict[str, LogState]]:
    """The witness key named in the state file and its logs; (None, {}) if there is no file yet;
    StateError if it does not parse."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, {}
    except OSError as exc:
        raise StateError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise StateError(f"{path} is not JSON") from None
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        raise StateError(f"{path} is not a {STATE_FORMAT} file")
    logs = data.get("logs")
    if not isinstance(logs, dict):
        raise StateError(f"{path}: 'logs' is not an object")
    witness = data.get("witness")
    if not isinstance(witness, str):
        raise StateError(f"{path}: 'witness' is not a verifier key")
    return witness, {origin: _state_entry(origin, value) for origin, value in logs.items()}


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_state(path: Path, witness: str, logs: dict[str, LogState]) -> None:
    """Replace the state file atomically and durably: a temporary file in the same directory,
    flushed and fsynced, renamed over the old one, then the directory fsynced."""
    document = {
        "format": STATE_FORMAT,
        "witness": witness,
        "logs": {origin: logs[origin].to_json() for origin in sorted(logs)},
    }
    data = (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    fsync_directory(path.parent)


# --- the witness -------------------------------------------------------------------------------


class Witness:
    """Cosigns checkpoints consistent with the latest one it cosigned, per log."""

    def __init__(self, key: CosigningKey, log_keys: Sequence[LogKey], state_path: Path) -> None:
        self.key = key
        self.verifier_key = key.verifier_key()
        self.logs: dict[str, list[LogKey]] = {}
        for log_key in log_keys:
            keys = self.logs.setdefault(log_key.origin, [])
            if all(k.text != log_key.text for k in keys):
                keys.append(log_key)
        self.state_path = state_path
        stored_key, self.state = load_state(state_path)
        if stored_key is not None and stored_key != self.verifier_key:
            log(f"note: the state was written by the witness key {stored_key}")
        self._log_locks = {origin: threading.Lock() for origin in self.logs}
        self._file_lock = threading.Lock()

    def add_checkpoint(self, body: bytes) -> str:
        """The cosignature line for a valid add-checkpoint body; Refusal otherwise."""
        request = parse_add_checkpoint(body)
        checkpoint = request.checkpoint
        keys = self.logs.get(checkpoint.origin)
        if keys is None:
            raise Refusal(404, "this witness does not follow a log with that origin")
        log_signatures = verified_log_signatures(checkpoint, keys)
        if request.old > checkpoint.size:
            raise Refusal(400, "the old size is larger than the checkpoint's size")
        # Checking against the stored state and persisting the new one are one atomic step.
        with self._log_locks[checkpoint.origin]:
            current = self.state.get(checkpoint.origin)
            try:
                return self._cosign(request, log_signatures, current)
            except Refusal as refusal:
                # The log signed it: a refusal now is evidence (or the log is only behind).
                self._log_refusal(request, refusal, current)
                raise

    def _cosign(
        self, request: AddCheckpoint, log_signatures: Sequence[str], current: LogState | None
    ) -> str:
        """Called with the log's lock held; ``current`` is what was last cosigned."""
        checkpoint = request.checkpoint
        origin, old, size, root = checkpoint.origin, request.old, checkpoint.size, checkpoint.root
        known = current.size if current is not None else 0
        if old != known:
            raise Refusal(409, f"the old size is not {known}, the size last cosigned", size=known)
        if size == 0 and root != EMPTY_ROOT:
            raise Refusal(422, "a checkpoint of size 0 does not have the empty tree's root")
        if old == 0:
            if request.proof:
                raise Refusal(422, "a consistency proof from old size 0 must be empty")
        else:
            assert current is not None  # old == known > 0
            if old == size and root != current.root:
                raise Refusal(
                    FORK_STATUS,
                    f"another root at the cosigned size {known}",
                    size=known if FORK_STATUS == 409 else None,
                )
            if not verify_consistency(old, size, request.proof, current.root, root):
                raise Refusal(422, "the consistency proof does not verify")
        # A later cosignature never carries an earlier time, even if the clock steps back.
        timestamp = max(int(time.time()), current.timestamp if current else 0, 1)
        cosignature = self.key.cosign(checkpoint.text, timestamp)
        note = checkpoint.text + "\n" + "".join(log_signatures) + cosignature
        self._persist(origin, LogState(size, root, timestamp, note))
        return cosignature

    def _persist(self, origin: str, entry: LogState) -> None:
        with self._file_lock:
            logs = dict(self.state)
            logs[origin] = entry
            write_state(self.state_path, self.verifier_key, logs)
            self.state = logs

    def _log_refusal(
        self, request: AddCheckpoint, refusal: Refusal, current: LogState | None
    ) -> None:
        checkpoint = request.checkpoint
        log(
            f"refused {refusal.status} with a valid log signature: "
            f"origin={json.dumps(checkpoint.origin)} "
            f"old={request.old} size={checkpoint.size} root={b64encode(checkpoint.root)} "
            f"cosigned_size={current.size if current else 0} "
            f"reason={json.dumps(refusal.reason)} note={json.dumps(request.note)}"
        )

    def state_document(self) -> dict[str, Any]:
        logs = self.state
        return {
            "witness": self.verifier_key,
            "logs": {origin: logs[origin].to_json() for origin in sorted(logs)},
        }

    def checkpoint_for(self, origin: str) -> str | None:
        entry = self.state.get(origin)
        return entry.checkpoint if entry is not None else None

    def checkpoint_for_hash(self, origin_hash: str) -> str | None:
        for origin, entry in self.state.items():
            if hashlib.sha256(origin.encode("utf-8")).hexdigest() == origin_hash:
                return entry.checkpoint
        return None


# --- HTTP --------------------------------------------------------------------------------------


class WitnessServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], witness: Witness, options: "ServeOptions") -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.witness = witness
        self.options = options
        super().__init__(address, WitnessHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up in DNS; a witness needs no name.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


@dataclass(frozen=True)
class ServeOptions:
    max_body: int
    verbose: bool


class WitnessHandler(http.server.BaseHTTPRequestHandler):
    server: WitnessServer
    protocol_version = "HTTP/1.1"  # keep-alive, as tlog-witness recommends
    server_version = "govshare-witness/1"
    timeout = 30  # seconds a connection may sit idle or half-sent
    # Headers and body leave in two writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK hold every answer on a kept-alive connection for ~40 ms.
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        return self.server_version

    def __getattr__(self, name: str) -> Callable[[], None]:
        # Any other method (PUT, DELETE, ...) is a client error, not 501 Not Implemented.
        if name.startswith("do_"):
            return self._method_not_allowed
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.options.verbose:
            log(f"{self.address_string()} {format % args}")

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = TEXT,
        *,
        close: bool = False,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers:
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _method_not_allowed(self) -> None:
        allow = "POST" if self._path() == "/add-checkpoint" else "GET"
        self._send(405, b"method not allowed\n", close=True, headers=[("Allow", allow)])

    def _path(self) -> str:
        return urlsplit(self.path).path

    def _read_body(self) -> bytes | None:
        """The request body, or None after answering an error (the connection then closes)."""
        if "Transfer-Encoding" in self.headers:
            self._send(411, b"send the body with a Content-Length\n", close=True)
            return None
        length = self.headers.get("Content-Length")
        if length is None:
            self._send(411, b"a Content-Length is required\n", close=True)
            return None
        if not re.fullmatch(r"[0-9]{1,19}", length.strip()):
            self._send(400, b"the Content-Length is not a number\n", close=True)
            return None
        size = int(length)
        if size > self.server.options.max_body:
            self._send(413, b"the body is too large\n", close=True)
            return None
        body = self.rfile.read(size)
        if len(body) != size:
            self.close_connection = True
            return None
        return body

    def do_POST(self) -> None:
        try:
            if self._path() != "/add-checkpoint":
                self._send(404, b"not found\n", close=True)
                return
            body = self._read_body()
            if body is None:
                return
            try:
                cosignature = self.server.witness.add_checkpoint(body)
            except Refusal as refusal:
                data, content_type = refusal.body()
                self._send(refusal.status, data, content_type)
                return
            self._send(200, cosignature.encode("utf-8"))
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception as exc:  # a bug or a failing disk: never a cosignature
            log(f"internal error on add-checkpoint: {exc!r}")
            with contextlib.suppress(OSError):
                self._send(500, b"internal error\n", close=True)

    def do_GET(self) -> None:
        try:
            self._get()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def do_HEAD(self) -> None:
        self.do_GET()

    def _get(self) -> None:
        witness = self.server.witness
        split = urlsplit(self.path)
        if split.path == "/add-checkpoint":
            self._method_not_allowed()
            return
        if split.path == "/state.json":
            document = json.dumps(witness.state_document(), indent=1, ensure_ascii=False)
            self._send(200, (document + "\n").encode("utf-8"), "application/json")
            return
        if split.path == "/state":
            origins = parse_qs(split.query, keep_blank_values=True).get("origin")
            if origins is None and len(witness.logs) == 1:
                origins = list(witness.logs)
            if origins is None or len(origins) != 1:
                listed = "".join(f"{origin}\n" for origin in sorted(witness.logs))
                message = f"give one ?origin=, one of:\n{listed}"
                self._send(400, message.encode("utf-8"))
                return
            note = witness.checkpoint_for(origins[0])
        elif match := _ORIGIN_HASH_PATH.fullmatch(split.path):
            note = witness.checkpoint_for_hash(match.group(1))
        else:
            self._send(404, b"not found\n")
            return
        if note is None:
            self._send(404, b"this witness has cosigned no checkpoint of that log\n")
            return
        self._send(200, note.encode("utf-8"))


# --- commands ----------------------------------------------------------------------------------


def keygen(name: str, out: Path) -> int:
    if not valid_key_name(name):
        raise UsageError(f"{name!r}: a key name is non-empty, without spaces or '+'")
    key = CosigningKey(name, Ed25519PrivateKey.generate())
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        log(f"{out} exists: not overwriting a key")
        return 1
    except OSError as exc:
        log(f"cannot create {out}: {exc.strerror}")
        return 1
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(key.to_string() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    print(key.verifier_key())
    return 0


def read_key(path: Path) -> CosigningKey:
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the key file {path}: {exc}") from None
    try:
        key = CosigningKey.from_string(text)
    except UsageError as exc:
        raise UsageError(f"{path}: {exc}") from None
    if mode & 0o077:
        log(f"warning: {path} can be read by other users (chmod 600 {path})")
    return key


def parse_listen(text: str) -> tuple[str, int]:
    host, colon, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not re.fullmatch(r"[0-9]{1,5}", port) or int(port) > 65535:
        raise UsageError(f"--listen {text!r}: expected HOST:PORT")
    return host, int(port)


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold ``path.lock`` for as long as this witness runs: one witness per state file."""
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"another witness is running on {path} ({lock_path})") from None
        yield
    finally:
        os.close(fd)


def serve(
    key_file: Path,
    log_key_args: Sequence[str],
    state: Path,
    listen: str,
    options: ServeOptions,
) -> int:
    key = read_key(key_file)
    log_keys = [parse_log_key(argument) for argument in log_key_args]
    address = parse_listen(listen)
    state = state.absolute()
    if not state.parent.is_dir():
        raise UsageError(f"--state {state}: the directory does not exist")
    with exclusive(state):
        for leftover in state.parent.glob(f".{state.name}.*.tmp"):  # from a killed witness
            with contextlib.suppress(OSError):
                leftover.unlink()
        try:
            witness = Witness(key, log_keys, state)
        except StateError as exc:
            log(f"the state file does not parse, refusing to start: {exc}")
            return 1
        try:
            server = WitnessServer(address, witness, options)
        except OSError as exc:
            raise UsageError(f"--listen {listen}: {exc.strerror}") from None
        host, port = server.server_name, server.server_port
        shown = f"[{host}]" if ":" in host else host
        for origin, keys in sorted(witness.logs.items()):
            cosigned = witness.state.get(origin)
            log(
                f"log {json.dumps(origin)}: {len(keys)} key(s), "
                f"cosigned size {cosigned.size if cosigned else 'none yet'}"
            )
        log(f"witness {witness.verifier_key} listening on http://{shown}:{port}/")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="govshare_witness.py",
        description="A C2SP tlog-witness for the govshare ledger "
        "(standard library and 'cryptography' only).",
        epilog="Exit status: 0 success, 1 error, 2 usage error.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    keygen_parser = commands.add_parser(
        "keygen", help="make a cosigning key and print its verifier key"
    )
    keygen_parser.add_argument("name", metavar="NAME", help="the witness name, e.g. a URL")
    keygen_parser.add_argument("--out", required=True, type=Path, metavar="FILE")
    vkey_parser = commands.add_parser("vkey", help="print the verifier key of a key file")
    vkey_parser.add_argument("--key", required=True, type=Path, metavar="FILE")
    serve_parser = commands.add_parser("serve", help="run the witness over HTTP")
    serve_parser.add_argument("--key", required=True, type=Path, metavar="FILE")
    serve_parser.add_argument(
        "--log-key",
        required=True,
        action="append",
        metavar="VKEY",
        help="a trusted log verifier key (origin = its name), or 'ORIGIN VKEY'; repeatable",
    )
    serve_parser.add_argument("--state", required=True, type=Path, metavar="FILE")
    serve_parser.add_argument("--listen", required=True, metavar="HOST:PORT")
    serve_parser.add_argument("--max-body", type=int, default=MAX_BODY, metavar="BYTES")
    serve_parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    try:
        if args.command == "keygen":
            return keygen(args.name, args.out)
        if args.command == "vkey":
            print(read_key(args.key).verifier_key())
            return 0
        if args.max_body < 1:
            raise UsageError("--max-body must be positive")
        options = ServeOptions(max_body=args.max_body, verbose=args.verbose)
        return serve(args.key, args.log_key, args.state, args.listen, options)
    except UsageError as exc:
        log(str(exc))
        return 2


if __name__ == "__main__":
    sys.exit(main())
