"""The periodic jobs, as rows of django-celery-beat that the office edits in admin.

Until this migration the jobs were CELERY_BEAT_SCHEDULE in govshare/settings.py; these are its
entries as they stood then (the same names, tasks, intervals and crontabs), written out here
because a migration is frozen: it must seed the same rows whenever it runs, whatever the code
says later. From here on the database is the one source of truth. A job added later comes with
its own data migration; a job's timing changes in admin, not in code.

Crontab times are in the portal's time zone when this runs (CELERY_TIMEZONE, which is
TIME_ZONE), as they were under the settings; each crontab row keeps that zone.

A job whose name is already in the table is left as it is, so this never overwrites what is
there. The reverse removes only the jobs named here (by name and task) and the schedules they
leave unused.
"""

from django.conf import settings
from django.db import migrations
from django.utils import timezone

# name, task, every, period, what it does (shown in admin)
INTERVAL_JOBS = [
    (
        "requests-mark-overdue",
        "access_requests.tasks.mark_overdue_requests",
        1,
        "hours",
        "Flags reviews past their due date and tells the office.",
    ),
    (
        "deliveries-dispatch",
        "sharing.tasks.dispatch_deliveries",
        1,
        "minutes",
        "Creates the periodic-copy deliveries that are due and sends them to a worker.",
    ),
    (
        "deliveries-sweep",
        "sharing.tasks.sweep_deliveries",
        15,
        "seconds",
        "Sends again deliveries never picked up or whose build stopped (recovery within a "
        "minute needs this at 15 seconds or less).",
    ),
    (
        "deliveries-remove-orphan-files",
        "sharing.tasks.remove_orphan_delivery_files",
        10,
        "minutes",
        "Deletes delivery files that no succeeded delivery claims.",
    ),
    (
        "resources-flag-stale",
        "governance.tasks.flag_stale_resources",
        1,
        "hours",
        "Flags published resources whose newest release is older than their update cycle.",
    ),
    (
        "quality-reports-mark-overdue",
        "governance.tasks.mark_overdue_quality_reports",
        1,
        "hours",
        "Flags quality reports not answered in time.",
    ),
    (
        "demands-mark-overdue",
        "governance.tasks.mark_overdue_demands",
        1,
        "hours",
        "Flags demands not answered in time.",
    ),
    (
        "attestations-open",
        "rights.tasks.open_attestations",
        1,
        "hours",
        "Opens the end-of-use attestation of each grant that was revoked or expired.",
    ),
    (
        "ledger-checkpoint",
        "ledger.tasks.sign_checkpoint",
        1,
        "minutes",
        "Signs a checkpoint of the transparency ledger when it has grown.",
    ),
    (
        "ledger-witness",
        "ledger.tasks.witness_checkpoints",
        1,
        "minutes",
        "Asks the departments' witnesses to cosign the latest checkpoint.",
    ),
    (
        "ledger-witness-alerts",
        "audit.tasks.witness_alerts",
        1,
        "minutes",
        "Tells the office and the auditors when a checkpoint stays unwitnessed too long.",
    ),
]
# name, task, minute, hour, what it does
CRONTAB_JOBS = [
    (
        "grants-expire",
        "rights.tasks.expire_grants",
        "5",
        "0",
        "Expires the grants past their end date.",
    ),
    (
        "grants-warn-expiry",
        "rights.tasks.warn_grant_expiry",
        "0",
        "7",
        "Warns grantees 14 and 3 days before their grant ends.",
    ),
    (
        "agreements-remind-unsigned",
        "standards.tasks.remind_unsigned_agreements",
        "30",
        "7",
        "Reminds whoever has not signed a grant's data-sharing agreement.",
    ),
    (
        "deliveries-purge-retained",
        "sharing.tasks.purge_retained_deliveries",
        "30",
        "1",
        "Deletes stored copies of ended grants after the retention period.",
    ),
    (
        "attestations-flag-overdue",
        "rights.tasks.flag_overdue_attestations",
        "15",
        "7",
        "Flags end-of-use attestations past their due date to the office.",
    ),
]


def seed_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    db = schema_editor.connection.alias
    existing = set(PeriodicTask.objects.using(db).values_list("name", flat=True))
    for name, task, every, period, description in INTERVAL_JOBS:
        if name in existing:
            continue
        interval, _ = IntervalSchedule.objects.using(db).get_or_create(every=every, period=period)
        PeriodicTask.objects.using(db).create(
            name=name, task=task, interval=interval, description=description
        )
    for name, task, minute, hour, description in CRONTAB_JOBS:
        if name in existing:
            continue
        crontab, _ = CrontabSchedule.objects.using(db).get_or_create(
            minute=minute,
            hour=hour,
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone=settings.CELERY_TIMEZONE,
        )
        PeriodicTask.objects.using(db).create(
            name=name, task=task, crontab=crontab, description=description
        )
    # What a running beat compares to notice a change (historical models send no signals, so
    # the row django-celery-beat's own saves would touch is touched here).
    PeriodicTasks.objects.using(db).update_or_create(
        ident=1, defaults={"last_update": timezone.now()}
    )


def unseed_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    db = schema_editor.connection.alias
    for name, task, *_ in INTERVAL_JOBS + CRONTAB_JOBS:
        PeriodicTask.objects.using(db).filter(name=name, task=task).delete()
    for _, _, every, period, _ in INTERVAL_JOBS:
        IntervalSchedule.objects.using(db).filter(
            every=every, period=period, periodictask__isnull=True
        ).delete()
    for _, _, minute, hour, _ in CRONTAB_JOBS:
        CrontabSchedule.objects.using(db).filter(
            minute=minute,
            hour=hour,
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            periodictask__isnull=True,
        ).delete()


class Migration(migrations.Migration):
    dependencies = [("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(seed_schedule, unseed_schedule)]
