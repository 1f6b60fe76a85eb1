from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.keys import write_new_key


class Command(BaseCommand):
    help = (
        "Create a new Ed25519 signing key for the ledger (file mode 0600); prints the public key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--name", default=None, help="key name (default: LEDGER_ORIGIN)")

    def handle(self, *args: Any, path: str, name: str | None, **options: Any) -> None:
        file = Path(path)
        if file.exists():
            raise CommandError(f"{path} exists; refusing to overwrite a signing key.")
        signer = write_new_key(file, name or settings.LEDGER_ORIGIN)
        self.stdout.write(signer.verifier_key())
        self.stderr.write(
            "To rotate to this key: add it to each witness (--log-key), then set "
            "LEDGER_SIGNING_KEY_FILE to this file and LEDGER_PREVIOUS_KEYS to the old verifier "
            "key (README: Rotating the log key)."
        )
