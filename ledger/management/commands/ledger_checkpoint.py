from typing import Any

from django.core.management.base import BaseCommand

from ledger.services import ledger_checkpoint_sign
from ledger.witnesses import quorum, witness_checkpoints, witnessed_size


class Command(BaseCommand):
    help = (
        "Sign a checkpoint of the ledger now (if it has grown since the last one), ask every "
        "witness at once and wait for their answers."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        checkpoint = ledger_checkpoint_sign()
        if checkpoint is None:
            self.stdout.write("The ledger is empty; nothing to sign.")
            return
        self.stdout.write(checkpoint.note)
        for answer in witness_checkpoints(wait=True):
            self.stdout.write(f"witness {answer.witness}: {answer.outcome}: {answer.detail}")
        if quorum():
            self.stdout.write(
                f"witnessed up to size {witnessed_size()} of {checkpoint.tree_size} "
                f"(quorum {quorum()})"
            )
