"""Independent C2SP checks for the witness tests, written from the specification text.

Nothing here comes from ``tools/govshare_witness.py``: it is a second reading of
c2sp.org/signed-note (verifier keys, note signatures) and c2sp.org/tlog-cosignature
(``cosignature/v1``), checked against the examples printed in those specifications
(``SIGNED_NOTE_*`` and ``COSIGNATURE_EXAMPLE_*`` below, copied verbatim).
"""

import base64
import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EM_DASH_SPACE = "\u2014 "
TYPE_ED25519 = 0x01  # signed-note: "0x01 — Ed25519 signatures as specified by this document."
TYPE_COSIGNATURE = 0x04  # "0x04 — Timestamped Ed25519 witness cosignatures"

# signed-note, "Verifier keys / Example": this key verifies this note.
SIGNED_NOTE_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SIGNED_NOTE_EXAMPLE = (
    "This is an example message.\n"
    "\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFX"
    "mRKuwHjG1Yu72IneyaQM=\n"
)
# tlog-cosignature: the example cosignature line and the example signed message's time line.
COSIGNATURE_EXAMPLE_LINE = (
    "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJs"
    "X3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)
COSIGNATURE_EXAMPLE_TIME = 1679315147


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    key_type: int
    public: bytes


def expected_key_id(name: str, key_type: int, public: bytes) -> bytes:
    """key ID = SHA-256(key name || 0x0A || signature type || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\x0a" + bytes([key_type]) + public).digest()[:4]


def parse_vkey(text: str) -> VerifierKey:
    """``<key name>+hex(32-bit key ID)+base64(signature type || public key)``."""
    name, hex_id, encoded = text.split("+", 2)
    assert name and not any(c.isspace() for c in name)
    assert len(hex_id) == 8 and hex_id == hex_id.lower()
    raw = base64.b64decode(encoded, validate=True)
    key = VerifierKey(name, bytes.fromhex(hex_id), raw[0], raw[1:])
    assert len(key.public) == 32, "Ed25519 public keys are 32 bytes"
    assert key.key_id == expected_key_id(name, key.key_type, key.public), "key id mismatch"
    return key


def split_signature_line(line: str) -> tuple[str, bytes]:
    """``— <key name> base64(32-bit key ID || signature)`` and its newline."""
    assert line.startswith(EM_DASH_SPACE) and line.endswith("\n"), line
    name, space, encoded = line[len(EM_DASH_SPACE) : -1].partition(" ")
    assert space and name, line
    return name, base64.b64decode(encoded, validate=True)


def open_ed25519_note(note: str, vkey: str) -> str:
    """The text of a signed note carrying a valid Ed25519 (0x01) signature by ``vkey``."""
    key = parse_vkey(vkey)
    assert key.key_type == TYPE_ED25519
    split = note.rindex("\n\n")  # "separated from the signatures by the last empty line"
    text, signatures = note[: split + 1], note[split + 2 :]
    for line in signatures.splitlines(keepends=True):
        name, raw = split_signature_line(line)
        if name == key.name and raw[:4] == key.key_id:
            Ed25519PublicKey.from_public_bytes(key.public).verify(raw[4:], text.encode())
            return text
    raise AssertionError(f"no signature by {vkey}")


def decode_cosignature(line: str) -> tuple[str, bytes, int, bytes]:
    """(name, key id, timestamp, signature) of a cosignature/v1 line: base64 of the key id and
    the 72-byte ``timestamped_signature`` (u64 big-endian timestamp, 64-byte Ed25519)."""
    name, raw = split_signature_line(line)
    assert len(raw) == 4 + 8 + 64, f"a cosignature is 76 bytes, not {len(raw)}"
    timestamp = int.from_bytes(raw[4:12], "big")
    assert timestamp <= 2**63 - 1, "timestamp MUST NOT exceed 2^63 - 1"
    return name, raw[:4], timestamp, raw[12:]


def cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    """``cosignature/v1``, ``time <timestamp>``, then the whole checkpoint note body."""
    assert checkpoint_text.endswith("\n")
    return f"cosignature/v1\ntime {timestamp}\n".encode() + checkpoint_text.encode()


def verify_cosignature(line: str, checkpoint_text: str, vkey: str) -> int:
    """Check one witness cosignature line over a checkpoint; returns its timestamp."""
    key = parse_vkey(vkey)
    assert key.key_type == TYPE_COSIGNATURE, "a cosignature vkey has signature type 0x04"
    name, kid, timestamp, signature = decode_cosignature(line)
    assert name == key.name, (name, key.name)
    assert kid == key.key_id, (kid.hex(), key.key_id.hex())
    Ed25519PublicKey.from_public_bytes(key.public).verify(
        signature, cosigned_message(checkpoint_text, timestamp)
    )
    return timestamp
