from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sharing.deliveries import deliveries_dispatch, delivery_build


class Command(BaseCommand):
    help = (
        "Run the periodic-copy dispatcher once: create the deliveries of every due period "
        "(catching up missed ones) and enqueue them; with --now, build them in this process."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now", action="store_true", help="build the deliveries here instead of in a worker"
        )

    def handle(self, *args: Any, now: bool, **options: Any) -> None:
        created = deliveries_dispatch()
        for delivery in created:
            late = " (caught up)" if delivery.caught_up else ""
            self.stdout.write(
                f"delivery #{delivery.pk}: grant {delivery.grant_id} {delivery.period_key}{late}"
            )
            if now:
                built = delivery_build(delivery.pk)
                self.stdout.write(f"  {built.status} {built.row_count or 0} rows {built.sha256}")
        self.stdout.write(f"{len(created)} delivery(ies) due.")
