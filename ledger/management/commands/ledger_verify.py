from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ledger.verification import ledger_verify


class Command(BaseCommand):
    help = (
        "Recompute the ledger from its entries, check every checkpoint, name the first bad index."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = ledger_verify()
        for problem in report.problems:
            self.stderr.write(problem)
        if not report.ok:
            where = (
                f" first bad index: {report.first_bad_index}."
                if report.first_bad_index is not None
                else ""
            )
            raise CommandError(
                f"ledger verification FAILED: {len(report.problems)} problem(s).{where}"
            )
        self.stdout.write(
            f"ledger OK: {report.entries} entries, {report.checkpoints} checkpoints verified."
        )
