"""C2SP tlog-cosignature/v1 with Ed25519: the witnesses' signatures on the log's checkpoints.

A cosignature is a signed-note signature line ``— <name> base64(key id ‖ timestamp ‖ sig)``
where the key id is SHA-256(name ‖ "\\n" ‖ 0x04 ‖ public key)[:4], the timestamp is 8 bytes
big-endian (POSIX seconds) and the Ed25519 signature covers::

    cosignature/v1
    time <timestamp>
    <the checkpoint body, final newline included, no signature lines>

Plain Python (no Django), like ``signing``: the standalone verifier follows the same text.
"""

import base64
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.signing import SIGNATURE_PREFIX

ALG_COSIGNATURE_ED25519 = b"\x04"
HEADER = "cosignature/v1\n"


class CosignatureError(ValueError):
    pass


def cosigner_key_id(name: str, public_raw: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ALG_COSIGNATURE_ED25519 + public_raw).digest()[:4]


def cosigned_message(body: str, timestamp: int) -> bytes:
    return f"{HEADER}time {timestamp}\n{body}".encode()


@dataclass(frozen=True)
class Cosigner:
    """A witness as its verifier key names it: ``name+<hex key id>+base64(0x04 ‖ key)``."""

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey

    @classmethod
    def from_vkey(cls, vkey: str) -> "Cosigner":
        parts = vkey.strip().split("+", 2)  # base64 may itself contain "+"
        if len(parts) != 3 or not parts[0]:
            raise CosignatureError("not a verifier key (expected name+id+key)")
        name, hex_id, encoded = parts
        try:
            raw = base64.b64decode(encoded, validate=True)
            key_id = bytes.fromhex(hex_id)
        except ValueError as exc:
            raise CosignatureError("the verifier key is not valid hex and base64") from exc
        if len(raw) != 33 or raw[:1] != ALG_COSIGNATURE_ED25519:
            raise CosignatureError("not an Ed25519 cosignature key (type 0x04)")
        if cosigner_key_id(name, raw[1:]) != key_id:
            raise CosignatureError("the key id does not match the key")
        return cls(name, key_id, Ed25519PublicKey.from_public_bytes(raw[1:]))

    def verify(self, body: str, line: str) -> int:
        """The timestamp of ``line`` if it is this cosigner's valid cosignature of ``body``."""
        if not line.startswith(SIGNATURE_PREFIX):
            raise CosignatureError("not a signature line")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except ValueError as exc:
            raise CosignatureError("the signature is not valid base64") from exc
        if name != self.name or raw[:4] != self.key_id:
            raise CosignatureError("the line is not signed by this cosigner")
        if len(raw) != 4 + 8 + 64:
            raise CosignatureError("a cosignature is a key id, a timestamp and 64 bytes")
        (timestamp,) = struct.unpack(">Q", raw[4:12])
        if timestamp > 2**63 - 1:
            raise CosignatureError("the timestamp is out of range")
        try:
            self.public_key.verify(raw[12:], cosigned_message(body, timestamp))
        except InvalidSignature as exc:
            raise CosignatureError("the cosignature does not verify") from exc
        return int(timestamp)

    def find(self, body: str, lines: list[str]) -> tuple[str, int] | None:
        """This cosigner's valid line among ``lines`` and its timestamp, or None."""
        for line in lines:
            try:
                return line, self.verify(body, line)
            except CosignatureError:
                continue
        return None


def cosign(private_key: Ed25519PrivateKey, name: str, body: str, timestamp: int) -> str:
    """A cosignature line (what a witness returns; the tests' reference of the format)."""
    public_raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    signature = private_key.sign(cosigned_message(body, timestamp))
    raw = cosigner_key_id(name, public_raw) + struct.pack(">Q", timestamp) + signature
    return f"{SIGNATURE_PREFIX}{name} {base64.b64encode(raw).decode()}"


def split_note(note: str) -> tuple[str, list[str]]:
    """``(body, signature lines)`` of a signed note."""
    text, sep, signatures = note.rpartition("\n\n")
    if not sep:
        raise CosignatureError("not a signed note")
    return text + "\n", [line for line in signatures.splitlines() if line]


def with_cosignatures(note: str, lines: list[str]) -> str:
    """The note with the given signature lines added after its own (none twice)."""
    body, present = split_note(note)
    added = [line for line in lines if line not in present]
    return body + "\n" + "".join(f"{line}\n" for line in [*present, *added])
