from typing import Any

from django.core.management.base import BaseCommand

from ledger.services import ledger_checkpoint_sign


class Command(BaseCommand):
    help = "Sign a checkpoint of the ledger now (if it has grown since the last one)."

    def handle(self, *args: Any, **options: Any) -> None:
        checkpoint = ledger_checkpoint_sign()
        if checkpoint is None:
            self.stdout.write("The ledger is empty; nothing to sign.")
            return
        self.stdout.write(checkpoint.note)
