from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sharing.upkeep import deliveries_fsck


class Command(BaseCommand):
    help = (
        "Check that the stored delivery files and the delivery rows agree: files no succeeded "
        "delivery claims, and succeeded deliveries whose file is missing or differs from the "
        "recorded SHA-256 and size. With --repair, delete the unclaimed files and build the "
        "others again (each with a ledger entry). Exit status 1 when problems were found and "
        "not repaired."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--repair", action="store_true", help="mend what is found")

    def handle(self, *args: Any, repair: bool, **options: Any) -> None:
        problems = deliveries_fsck(repair=repair)
        for problem in problems:
            self.stdout.write(str(problem))
        left = [p for p in problems if not p.repaired]
        self.stdout.write(
            f"{len(problems)} problem(s) found, {len(problems) - len(left)} repaired."
        )
        if left:
            raise SystemExit(1)
