"""Generate the data-sharing agreement of every grant that has none (grants approved before
agreements existed). Idempotent: a grant that has an agreement keeps it."""

from typing import Any

from django.core.management.base import BaseCommand

from standards.agreements import agreements_generate_missing


class Command(BaseCommand):
    help = "Generate the data-sharing agreement of every grant that has none (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        made = agreements_generate_missing()
        self.stdout.write(f"Agreements generated: {made}.")
