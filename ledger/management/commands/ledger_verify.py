from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger import keys, signing
from ledger.cosignatures import CosignatureError, Cosigner, split_note
from ledger.models import LedgerCheckpoint
from ledger.services import cosigned_note, root_at, tree_size
from ledger.verification import ledger_verify


class Command(BaseCommand):
    help = (
        "Recompute the ledger from its entries, check every checkpoint, name the first bad index. "
        "With --witness, trust the departments' witnesses instead of the database: the newest "
        "checkpoint must carry --quorum valid cosignatures."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--witness",
            action="append",
            default=[],
            metavar="VKEY",
            help="a witness's cosignature verifier key (repeatable)",
        )
        parser.add_argument(
            "--quorum", type=int, metavar="K", help="cosignatures required (default: all)"
        )
        parser.add_argument(
            "--trusted-checkpoint",
            action="append",
            default=[],
            metavar="FILE",
            help="a checkpoint a department kept (a receipt's, or its witness's GET /state)",
        )

    def handle(
        self,
        *args: Any,
        witness: list[str],
        quorum: int | None,
        trusted_checkpoint: list[str],
        **options: Any,
    ) -> None:
        try:
            cosigners = [Cosigner.from_vkey(vkey) for vkey in witness]
        except CosignatureError as exc:
            raise CommandError(f"--witness: {exc}") from exc
        needed = len(cosigners) if quorum is None else quorum
        if not 0 <= needed <= len(cosigners):
            raise CommandError(f"--quorum {quorum}: give 0 to {len(cosigners)} (--witness keys)")
        report = ledger_verify()
        problems = list(report.problems)
        if cosigners:
            problems += self._witnessed(cosigners, needed)
        problems += [self._trusted(Path(path)) for path in trusted_checkpoint]
        problems = [p for p in problems if p]
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            where = (
                f" first bad index: {report.first_bad_index}."
                if report.first_bad_index is not None
                else ""
            )
            raise CommandError(f"ledger verification FAILED: {len(problems)} problem(s).{where}")
        if not cosigners:
            self.stdout.write(
                "note: no --witness given: this covers only what the database holds; whoever "
                "holds the database and the log key could have rewritten it."
            )
        self.stdout.write(
            f"ledger OK: {report.entries} entries, {report.checkpoints} checkpoints verified."
        )

    def _witnessed(self, cosigners: list[Cosigner], needed: int) -> list[str]:
        newest = LedgerCheckpoint.objects.order_by("-tree_size").first()
        if newest is None:
            return ["no checkpoint: nothing for the witnesses' cosignatures to vouch for"]
        body, lines = split_note(cosigned_note(newest))
        signed = [c.name for c in cosigners if c.find(body, lines) is not None]
        if len(signed) < needed:
            return [
                f"checkpoint {newest.tree_size} carries {len(signed)} valid cosignature(s) of the "
                f"{needed} required: the database's newest history is not vouched for"
            ]
        self.stdout.write(
            f"witnessed: checkpoint {newest.tree_size} cosigned by {', '.join(signed)}"
        )
        return []

    def _trusted(self, path: Path) -> str:
        try:
            text, _key = signing.open_note_any(path.read_text(encoding="utf-8"), keys.log_keys())
            _origin, size, root = signing.parse_checkpoint(text)
        except (OSError, ValueError) as exc:
            return f"trusted checkpoint {path}: {exc}"
        held = tree_size()
        if size > held:
            return (
                f"trusted checkpoint {path} has size {size} but the log holds {held} entries: "
                f"the log was cut back"
            )
        try:
            ours = root_at(size)
        except Exception as exc:  # a log missing nodes below its size cannot give the root
            return f"trusted checkpoint {path} (size {size}): the log cannot give its root ({exc})"
        if ours != root:
            return (
                f"trusted checkpoint {path} (size {size}) is not consistent with the log of size "
                f"{held}: history up to {size} was rewritten"
            )
        self.stdout.write(f"trusted checkpoint {path}: size {size} is consistent with the log")
        return ""
