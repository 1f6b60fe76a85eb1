"""C2SP signed notes with Ed25519 (the format of Go's golang.org/x/mod/sumdb/note).

Key strings:
- signer (secret, in ``LEDGER_SIGNING_KEY_FILE``):
  ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ seed)>``
- verifier (public): ``<name>+<hex key id>+<base64(0x01 ‖ public key)>``
The key id is the first four bytes of SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key).
"""

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG_ED25519 = b"\x01"
SIGNATURE_PREFIX = "\u2014 "  # em dash and a space start every signature line


class LedgerKeyError(ValueError):
    pass


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(name: str, public_raw: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ALG_ED25519 + public_raw).digest()[:4]


@dataclass(frozen=True)
class Signer:
    name: str
    private_key: Ed25519PrivateKey

    @property
    def public_raw(self) -> bytes:
        return _raw_public(self.private_key.public_key())

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_raw)

    def verifier_key(self) -> str:
        encoded = base64.b64encode(ALG_ED25519 + self.public_raw).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def sign(self, text: str) -> str:
        """The signed note: ``text`` (which must end in a newline), a blank line, a signature."""
        if not text.endswith("\n"):
            raise ValueError("a note's text ends with a newline")
        signature = self.private_key.sign(text.encode())
        encoded = base64.b64encode(self.key_id + signature).decode()
        return f"{text}\n{SIGNATURE_PREFIX}{self.name} {encoded}\n"


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def generate_signer(name: str) -> Signer:
    if not _valid_name(name):
        raise LedgerKeyError("a key name has no spaces and no '+'")
    return Signer(name, Ed25519PrivateKey.generate())


def signer_to_string(signer: Signer) -> str:
    seed = signer.private_key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    encoded = base64.b64encode(ALG_ED25519 + seed).decode()
    return f"PRIVATE+KEY+{signer.name}+{signer.key_id.hex()}+{encoded}"


def signer_from_string(text: str) -> Signer:
    parts = text.strip().split("+", 4)  # base64 may itself contain "+"
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise LedgerKeyError("not a signer key (expected PRIVATE+KEY+name+id+key)")
    _p, _k, name, hex_id, encoded = parts
    try:
        raw = base64.b64decode(encoded, validate=True)
    except ValueError as exc:
        raise LedgerKeyError("the key is not valid base64") from exc
    if len(raw) != 33 or raw[:1] != ALG_ED25519:
        raise LedgerKeyError("not an Ed25519 key")
    signer = Signer(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
    if signer.key_id.hex() != hex_id:
        raise LedgerKeyError("the key id does not match the key")
    return signer


def verifier_from_string(text: str) -> tuple[str, bytes, Ed25519PublicKey]:
    """``(name, key_id, Ed25519PublicKey)`` from a verifier key string."""
    parts = text.strip().split("+", 2)  # base64 may itself contain "+"
    if len(parts) != 3:
        raise LedgerKeyError("not a verifier key (expected name+id+key)")
    name, hex_id, encoded = parts
    raw = base64.b64decode(encoded)
    if len(raw) != 33 or raw[:1] != ALG_ED25519:
        raise LedgerKeyError("not an Ed25519 verifier key")
    if key_id(name, raw[1:]).hex() != hex_id:
        raise LedgerKeyError("the key id does not match the key")
    return name, bytes.fromhex(hex_id), Ed25519PublicKey.from_public_bytes(raw[1:])


def open_note(note: str, verifier_key: str) -> str:
    """The text of ``note`` if it carries a valid signature by ``verifier_key``; else ValueError."""
    name, kid, public_key = verifier_from_string(verifier_key)
    text, sep, signatures = note.rpartition("\n\n")
    if not sep:
        raise ValueError("not a signed note")
    text += "\n"
    for line in signatures.splitlines():
        if not line.startswith(SIGNATURE_PREFIX):
            raise ValueError("malformed signature line")
        signer_name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        raw = base64.b64decode(encoded)
        if signer_name == name and raw[:4] == kid:
            try:
                public_key.verify(raw[4:], text.encode())
            except Exception as exc:  # cryptography raises InvalidSignature
                raise ValueError("the signature does not verify") from exc
            return text
    raise ValueError("no signature by the expected key")


def open_note_any(note: str, verifier_keys: Sequence[str]) -> tuple[str, str]:
    """``(text, verifier key)`` of the first of ``verifier_keys`` that signed ``note``.

    A bad signature by one of the keys fails at once (it is not hidden by a good one of another);
    a note signed by none of them is a ValueError naming the key ids tried.
    """
    for verifier_key in verifier_keys:
        try:
            return open_note(note, verifier_key), verifier_key
        except ValueError as exc:
            if str(exc) != "no signature by the expected key":
                raise
    tried = ", ".join(key.split("+", 2)[1] for key in verifier_keys if key.count("+") >= 2)
    raise ValueError(f"no signature by a log key (key ids tried: {tried or 'none'})")


def signing_key_id(note: str) -> str:
    """``name+hex key id`` named by the first signature line of a signed note ('' if none)."""
    _text, sep, signatures = note.rpartition("\n\n")
    for line in signatures.splitlines() if sep else []:
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except ValueError:
            continue
        if len(raw) == 68:  # an Ed25519 signed-note signature: 4-byte key id + 64 bytes
            return f"{name}+{raw[:4].hex()}"
    return ""


def checkpoint_text(origin: str, size: int, root: bytes) -> str:
    """The C2SP tlog-checkpoint body."""
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def parse_checkpoint(text: str) -> tuple[str, int, bytes]:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise ValueError("malformed checkpoint")
    if not lines[1].isdigit() or (lines[1].startswith("0") and lines[1] != "0"):
        raise ValueError("the checkpoint size is not a plain decimal number")
    origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)
    if len(root) != 32:
        raise ValueError("checkpoint root is not 32 bytes")
    return origin, size, root
