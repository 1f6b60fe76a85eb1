"""The periodic job release-uploads-sweep (catalog.tasks.sweep_release_uploads), every 15 s.

Seeded as 0001_beat_schedule seeds its jobs, and frozen as they are: the job is left alone if its
name is already in the table (the office may have changed it), the schedule is marked changed so
a running beat picks it up, and the reverse removes only this job (by name and task) and its
interval if nothing else uses it.
"""

from django.db import migrations
from django.utils import timezone

# name, task, every, period, what it does (shown in admin)
INTERVAL_JOBS = [
    (
        "release-uploads-sweep",
        "catalog.tasks.sweep_release_uploads",
        15,
        "seconds",
        "Sends again release uploads never picked up or whose worker ended, and fails them after "
        "three attempts (recovery within a minute needs this at 15 seconds or less).",
    ),
]


def seed_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    db = schema_editor.connection.alias
    existing = set(PeriodicTask.objects.using(db).values_list("name", flat=True))
    for name, task, every, period, description in INTERVAL_JOBS:
        if name in existing:
            continue
        # No unique constraint on schedules, and the office adds them in admin: take any one.
        schedules = IntervalSchedule.objects.using(db)
        interval = schedules.filter(every=every, period=period).order_by("pk").first()
        if interval is None:
            interval = schedules.create(every=every, period=period)
        PeriodicTask.objects.using(db).create(
            name=name, task=task, interval=interval, description=description
        )
    PeriodicTasks.objects.using(db).update_or_create(
        ident=1, defaults={"last_update": timezone.now()}
    )


def unseed_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    db = schema_editor.connection.alias
    for name, task, every, period, _ in INTERVAL_JOBS:
        PeriodicTask.objects.using(db).filter(name=name, task=task).delete()
        IntervalSchedule.objects.using(db).filter(
            every=every, period=period, periodictask__isnull=True
        ).delete()
    PeriodicTasks.objects.using(db).update_or_create(
        ident=1, defaults={"last_update": timezone.now()}
    )


class Migration(migrations.Migration):
    dependencies = [("govshare", "0001_beat_schedule")]

    operations = [migrations.RunPython(seed_schedule, unseed_schedule)]
