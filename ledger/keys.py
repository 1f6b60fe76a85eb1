"""The ledger's signing key, read from ``LEDGER_SIGNING_KEY_FILE``."""

import functools
import os
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ledger import signing


@functools.cache
def _load(path: str, origin: str, debug: bool) -> signing.Signer:
    file = Path(path)
    if not file.exists():
        if not debug:
            raise ImproperlyConfigured(f"LEDGER_SIGNING_KEY_FILE {path!r} does not exist.")
        # Development only: make a key so the demo signs checkpoints out of the box.
        write_new_key(file, origin)
    try:
        return signing.signer_from_string(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"LEDGER_SIGNING_KEY_FILE {path!r}: {exc}") from exc


def write_new_key(file: Path, origin: str) -> signing.Signer:
    signer = signing.generate_signer(origin)
    file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(signing.signer_to_string(signer) + "\n")
    return signer


def signer() -> signing.Signer:
    return _load(settings.LEDGER_SIGNING_KEY_FILE, settings.LEDGER_ORIGIN, settings.DEBUG)


def verifier_key() -> str:
    """The current log key: the one new checkpoints are signed with."""
    return signer().verifier_key()


@functools.cache
def _previous(configured: tuple[str, ...], current: str) -> tuple[str, ...]:
    found: list[str] = []
    for text in configured:
        try:
            name, kid, _public = signing.verifier_from_string(text)
        except ValueError as exc:
            raise ImproperlyConfigured(f"LEDGER_PREVIOUS_KEYS: {text!r}: {exc}") from exc
        vkey = text.strip()
        if vkey != current and vkey not in found:
            found.append(vkey)
    return tuple(found)


def log_keys() -> list[str]:
    """Every verifier key of this log, current first, then ``LEDGER_PREVIOUS_KEYS``.

    After a rotation the old checkpoints stay signed by the retired key: they verify with it,
    and the first checkpoint under the new key is signed only after a consistency proof from the
    last one under the old key verifies.
    """
    current = verifier_key()
    previous = _previous(tuple(getattr(settings, "LEDGER_PREVIOUS_KEYS", ())), current)
    return [current, *previous]
