import base64
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger import keys
from ledger.models import LedgerCheckpoint, LedgerEntry, LedgerState
from ledger.services import cosigned_note


class Command(BaseCommand):
    help = (
        "Write the ledger to DIR: entries.jsonl (index and base64 of the exact bytes), "
        "checkpoints/<size> (signed notes with the witnesses' cosignatures) and key.txt "
        "(the verifier key)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory")

    def handle(self, *args: Any, directory: str, **options: Any) -> None:
        target = Path(directory)
        if target.exists() and any(target.iterdir()):
            raise CommandError(f"{directory} is not empty.")
        (target / "checkpoints").mkdir(parents=True, exist_ok=True)
        # Checkpoints first: one signed while the entries are read is simply not exported, and
        # every exported one must be covered by the entries, which are read up to the stored size
        # (a row beyond it is not part of the log). A checkpoint beyond the entries is evidence.
        checkpoints = list(LedgerCheckpoint.objects.order_by("tree_size"))
        size = LedgerState.objects.filter(pk=1).values_list("size", flat=True).first() or 0
        count = 0
        with open(target / "entries.jsonl", "w", encoding="utf-8") as out:
            rows = (
                LedgerEntry.objects.filter(index__lt=size)
                .order_by("index")
                .values_list("index", "entry")
            )
            for index, data in rows.iterator(chunk_size=5000):
                line = {"index": index, "entry": base64.b64encode(bytes(data)).decode()}
                out.write(json.dumps(line) + "\n")
                count += 1
        for checkpoint in checkpoints:
            (target / "checkpoints" / str(checkpoint.tree_size)).write_text(
                cosigned_note(checkpoint), encoding="utf-8"
            )
        # Every log key, current first: after a rotation old checkpoints carry a retired key.
        (target / "key.txt").write_text("\n".join(keys.log_keys()) + "\n", encoding="utf-8")
        self.stdout.write(f"exported {count} entries to {target}")
