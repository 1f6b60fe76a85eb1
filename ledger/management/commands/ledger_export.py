import base64
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger import keys
from ledger.models import LedgerCheckpoint, LedgerEntry


class Command(BaseCommand):
    help = (
        "Write the ledger to DIR: entries.jsonl (index and base64 of the exact bytes), "
        "checkpoints/<size> (signed notes) and key.txt (the verifier key)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory")

    def handle(self, *args: Any, directory: str, **options: Any) -> None:
        target = Path(directory)
        if target.exists() and any(target.iterdir()):
            raise CommandError(f"{directory} is not empty.")
        (target / "checkpoints").mkdir(parents=True, exist_ok=True)
        count = 0
        with open(target / "entries.jsonl", "w", encoding="utf-8") as out:
            rows = LedgerEntry.objects.order_by("index").values_list("index", "entry")
            for index, data in rows.iterator(chunk_size=5000):
                line = {"index": index, "entry": base64.b64encode(bytes(data)).decode()}
                out.write(json.dumps(line) + "\n")
                count += 1
        # Only checkpoints the written entries cover (one may have been signed meanwhile).
        for checkpoint in LedgerCheckpoint.objects.filter(tree_size__lte=count).order_by(
            "tree_size"
        ):
            (target / "checkpoints" / str(checkpoint.tree_size)).write_text(
                checkpoint.note, encoding="utf-8"
            )
        (target / "key.txt").write_text(keys.verifier_key() + "\n", encoding="utf-8")
        self.stdout.write(f"exported {count} entries to {target}")
