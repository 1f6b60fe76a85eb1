"""The office's admin (#15.8): the periodic jobs it edits without a restart, the review policy and
the holiday calendar it edits, what the auditors only read, read-only records without save
buttons, and admin actions that say what they did."""

import datetime
import importlib
import os
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from access_requests import services as rs
from departments.models import Membership
from govshare.celery import app as celery_app
from ledger.models import LedgerEntry
from tests.beat_schedule import beat_schedule_seed
from tests.conftest import make_user
from workdays.models import Holiday, ReviewPolicy

JOBS = "/admin/django_celery_beat/periodictask/"
SAVE_BUTTON = re.compile(rb'<input[^>]*name="_save"')


def _staff(user):
    """Staff as seed_demo makes the office's users: admin access and every view permission."""
    user.is_staff = True
    user.save()
    user.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    return user


@pytest.fixture
def office(departments):
    return _staff(make_user("office", departments["OFFICE"], Membership.Role.REVIEWER))


@pytest.fixture
def auditor(departments):
    return _staff(make_user("auditor", departments["OFFICE"], Membership.Role.AUDITOR))


@pytest.fixture
def outsider(departments):
    """Staff with every view permission, but a steward of HEALTH: no part of the office."""
    return _staff(make_user("health_admin", departments["HEALTH"], Membership.Role.STEWARD))


def _job(name):
    return PeriodicTask.objects.select_related("interval", "crontab").get(name=name)


def _job_form(job, **changes):
    """The change form of a job as the office submits it."""
    data = {
        "enabled": "on" if job.enabled else "",
        "interval": job.interval_id or "",
        "crontab": job.crontab_id or "",
        "description": job.description,
        "_save": "Save",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def _running_scheduler():
    """beat's DatabaseScheduler in this process, as `celery beat` runs it: it reads the jobs on
    start, and each tick (every 5 s at most) asks whether the schedule changed."""
    scheduler = DatabaseScheduler(app=celery_app)
    scheduler.schedule  # noqa: B018 - the first tick: nothing changed since the start
    return scheduler


def _every(scheduler, name):
    return scheduler.schedule[name].schedule.run_every


# --- the periodic jobs: seeded, edited in admin, picked up by a running beat -----------------


def test_the_migration_seeds_every_job_with_its_old_schedule(db):
    intervals = {
        job.name: (job.task, job.interval.every, job.interval.period)
        for job in PeriodicTask.objects.filter(interval__isnull=False).select_related("interval")
    }
    crontabs = {
        job.name: (job.task, job.crontab.minute, job.crontab.hour, job.crontab.day_of_week)
        for job in PeriodicTask.objects.filter(crontab__isnull=False).select_related("crontab")
    }
    assert intervals == {
        "requests-mark-overdue": ("access_requests.tasks.mark_overdue_requests", 1, "hours"),
        "deliveries-dispatch": ("sharing.tasks.dispatch_deliveries", 1, "minutes"),
        "deliveries-sweep": ("sharing.tasks.sweep_deliveries", 15, "seconds"),
        "release-uploads-sweep": ("catalog.tasks.sweep_release_uploads", 15, "seconds"),
        "deliveries-remove-orphan-files": (
            "sharing.tasks.remove_orphan_delivery_files",
            10,
            "minutes",
        ),
        "resources-flag-stale": ("governance.tasks.flag_stale_resources", 1, "hours"),
        "quality-reports-mark-overdue": (
            "governance.tasks.mark_overdue_quality_reports",
            1,
            "hours",
        ),
        "demands-mark-overdue": ("governance.tasks.mark_overdue_demands", 1, "hours"),
        "attestations-open": ("rights.tasks.open_attestations", 1, "hours"),
        "ledger-checkpoint": ("ledger.tasks.sign_checkpoint", 1, "minutes"),
        "ledger-witness": ("ledger.tasks.witness_checkpoints", 1, "minutes"),
        "ledger-witness-alerts": ("audit.tasks.witness_alerts", 1, "minutes"),
    }
    assert crontabs == {
        "grants-expire": ("rights.tasks.expire_grants", "5", "0", "*"),
        "grants-warn-expiry": ("rights.tasks.warn_grant_expiry", "0", "7", "*"),
        "agreements-remind-unsigned": (
            "standards.tasks.remind_unsigned_agreements",
            "30",
            "7",
            "*",
        ),
        "deliveries-purge-retained": ("sharing.tasks.purge_retained_deliveries", "30", "1", "*"),
        "attestations-flag-overdue": ("rights.tasks.flag_overdue_attestations", "15", "7", "*"),
    }
    assert set(PeriodicTask.objects.values_list("enabled", flat=True)) == {True}
    # Every job runs a task the portal has.
    celery_app.loader.import_default_modules()
    assert {job.task for job in PeriodicTask.objects.all()} <= set(celery_app.tasks)


def test_the_former_sweep_setting_is_refused_with_a_message():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "govshare.settings",
        "DEBUG": "true",
        "DELIVERY_SWEEP_SECONDS": "10",
    }
    done = subprocess.run(  # a fresh process: the settings are read once
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert (
        "DELIVERY_SWEEP_SECONDS is no longer read: the sweep's interval is the periodic task "
        "deliveries-sweep, which the office edits in admin (Periodic tasks). Unset it."
    ) in done.stderr


def test_seeding_again_keeps_what_the_office_changed(db):
    sweep = _job("deliveries-sweep")
    sweep.interval = IntervalSchedule.objects.get(every=1, period="minutes")
    sweep.save()
    beat_schedule_seed()
    assert _job("deliveries-sweep").interval.every == 1
    assert PeriodicTask.objects.count() == 17


@pytest.mark.django_db(transaction=True)
def test_office_changes_an_interval_in_admin_and_running_beat_follows_without_restart(
    client, office
):
    beat_schedule_seed()
    scheduler = _running_scheduler()
    assert _every(scheduler, "deliveries-sweep") == datetime.timedelta(seconds=15)
    client.force_login(office)
    # A new interval (the "+" beside the field opens this form), then the job's change form.
    added = client.post(
        "/admin/django_celery_beat/intervalschedule/add/",
        {
            "every": "30",
            "period": "seconds",
            "periodictask_set-TOTAL_FORMS": "0",
            "periodictask_set-INITIAL_FORMS": "0",
        },
    )
    assert added.status_code == 302
    thirty = IntervalSchedule.objects.get(every=30, period="seconds")
    sweep = _job("deliveries-sweep")
    saved = client.post(f"{JOBS}{sweep.pk}/change/", _job_form(sweep, interval=thirty.pk))
    assert saved.status_code == 302
    assert _job("deliveries-sweep").interval == thirty
    # The same scheduler, not restarted: its next tick reads the schedule again.
    assert _every(scheduler, "deliveries-sweep") == datetime.timedelta(seconds=30)
    assert _every(scheduler, "deliveries-dispatch") == datetime.timedelta(minutes=1)


@pytest.mark.django_db(transaction=True)
def test_office_switches_a_job_off_in_admin_and_running_beat_drops_it(client, office):
    beat_schedule_seed()
    scheduler = _running_scheduler()
    assert "ledger-witness" in scheduler.schedule
    witness = _job("ledger-witness")
    client.force_login(office)
    saved = client.post(f"{JOBS}{witness.pk}/change/", _job_form(witness, enabled=""), follow=True)
    assert saved.redirect_chain == [(JOBS, 302)]
    assert _job("ledger-witness").enabled is False
    assert "ledger-witness" not in scheduler.schedule
    assert "ledger-checkpoint" in scheduler.schedule
    # ... and on again, with the action on the list.
    done = client.post(
        JOBS, {"action": "enable_jobs", "_selected_action": [witness.pk]}, follow=True
    )
    assert [str(m) for m in done.context["messages"]] == ["1 job switched on: ledger-witness."]
    assert "ledger-witness" in scheduler.schedule


def test_a_job_needs_exactly_one_schedule(client, office):
    expire = _job("grants-expire")
    client.force_login(office)
    both = client.post(
        f"{JOBS}{expire.pk}/change/",
        _job_form(expire, interval=IntervalSchedule.objects.get(every=1, period="hours").pk),
    )
    assert both.status_code == 200
    assert both.context["adminform"].form.non_field_errors() == [
        "Choose either an interval or a crontab for this job, not both and not neither: it "
        "runs on exactly one schedule."
    ]
    assert _job("grants-expire").interval is None


def test_office_switches_jobs_off_and_is_told_which(client, office):
    jobs = PeriodicTask.objects.filter(name__in=["grants-expire", "ledger-witness"])
    PeriodicTask.objects.filter(name="grants-expire").update(enabled=False)
    client.force_login(office)
    done = client.post(
        JOBS,
        {"action": "disable_jobs", "_selected_action": [job.pk for job in jobs]},
        follow=True,
    )
    assert [str(m) for m in done.context["messages"]] == [
        "1 job switched off: ledger-witness.",
        "1 was off already.",
    ]
    assert set(jobs.values_list("enabled", flat=True)) == {False}


def test_office_runs_jobs_now_and_is_told_which_could_not_run(client, office, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)  # run here, not queued
    PeriodicTask.objects.filter(name="demands-mark-overdue").update(task="gone.tasks.old_job")
    jobs = PeriodicTask.objects.filter(name__in=["requests-mark-overdue", "demands-mark-overdue"])
    client.force_login(office)
    done = client.post(
        JOBS, {"action": "run_jobs", "_selected_action": [job.pk for job in jobs]}, follow=True
    )
    assert [(m.level_tag, str(m)) for m in done.context["messages"]] == [
        ("info", "1 job started now (its schedule is unchanged): requests-mark-overdue."),
        ("error", "demands-mark-overdue was not run: its task is not one this portal has."),
    ]
    assert _job("requests-mark-overdue").total_run_count == 0


def test_nobody_adds_or_deletes_a_job_in_admin(client, office):
    client.force_login(office)
    assert client.get(f"{JOBS}add/").status_code == 403
    sweep = _job("deliveries-sweep")
    assert client.post(f"{JOBS}{sweep.pk}/delete/", {"post": "yes"}).status_code == 403
    assert PeriodicTask.objects.count() == 17


def test_auditor_views_the_jobs_but_cannot_change_them(client, auditor):
    sweep = _job("deliveries-sweep")
    client.force_login(auditor)
    assert client.get(JOBS).status_code == 200
    page = client.get(f"{JOBS}{sweep.pk}/change/")
    assert page.status_code == 200
    assert b"deliveries-sweep" in page.content
    assert not SAVE_BUTTON.search(page.content)
    every_minute = IntervalSchedule.objects.get(every=1, period="minutes")
    refused = client.post(f"{JOBS}{sweep.pk}/change/", _job_form(sweep, interval=every_minute.pk))
    assert refused.status_code == 403
    # The actions are the office's: for the auditor there are none to choose.
    action = client.post(JOBS, {"action": "disable_jobs", "_selected_action": [sweep.pk]})
    assert action.status_code == 200
    assert action.context["action_form"] is None
    assert client.get("/admin/django_celery_beat/intervalschedule/add/").status_code == 403
    sweep = _job("deliveries-sweep")
    assert (sweep.interval.every, sweep.interval.period, sweep.enabled) == (15, "seconds", True)


def test_outsiders_cannot_open_the_jobs(client, outsider, requester):
    sweep = _job("deliveries-sweep")
    client.force_login(outsider)
    assert client.get(JOBS).status_code == 403
    assert client.get(f"{JOBS}{sweep.pk}/change/").status_code == 403
    assert client.get("/admin/django_celery_beat/crontabschedule/").status_code == 403
    assert b"Periodic tasks" not in client.get("/admin/").content
    client.force_login(requester)  # not staff: admin sends them to its sign-in page
    response = client.get(JOBS)
    assert (response.status_code, response["Location"]) == (302, f"/admin/login/?next={JOBS}")


# --- the review policy and the holiday calendar ----------------------------------------------


@pytest.fixture
def holiday(db):
    return Holiday.objects.create(date=datetime.date(2026, 10, 1), name="National Day")


def test_office_edits_a_holiday_and_the_review_policy(client, office, holiday):
    policy = ReviewPolicy.current()
    client.force_login(office)
    renamed = client.post(
        f"/admin/workdays/holiday/{holiday.pk}/change/",
        {"date": "2026-10-02", "name": "National Day (observed)", "_save": "Save"},
    )
    assert renamed.status_code == 302
    holiday.refresh_from_db()
    assert (holiday.date, holiday.name) == (datetime.date(2026, 10, 2), "National Day (observed)")
    added = client.post(
        "/admin/workdays/holiday/add/", {"date": "2026-01-01", "name": "New Year", "_save": "Save"}
    )
    assert added.status_code == 302
    assert Holiday.objects.filter(date=datetime.date(2026, 1, 1), name="New Year").exists()
    changed = client.post(
        f"/admin/workdays/reviewpolicy/{policy.pk}/change/",
        {
            "owner_review_days": "7",
            "office_review_days": "4",
            "max_validity_days": "180",
            "_save": "Save",
        },
    )
    assert changed.status_code == 302
    policy.refresh_from_db()
    assert (policy.owner_review_days, policy.office_review_days, policy.max_validity_days) == (
        7,
        4,
        180,
    )


def test_auditor_reads_holidays_and_the_policy_but_changes_nothing(client, auditor, holiday):
    policy = ReviewPolicy.current()
    client.force_login(auditor)
    page = client.get(f"/admin/workdays/holiday/{holiday.pk}/change/")
    assert page.status_code == 200
    assert not SAVE_BUTTON.search(page.content)
    assert (
        client.post(
            f"/admin/workdays/holiday/{holiday.pk}/change/",
            {"date": "2026-10-02", "name": "Renamed", "_save": "Save"},
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/admin/workdays/holiday/add/", {"date": "2026-01-01", "name": "New Year"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/admin/workdays/reviewpolicy/{policy.pk}/change/",
            {"owner_review_days": "9", "office_review_days": "9", "max_validity_days": "9"},
        ).status_code
        == 403
    )
    holiday.refresh_from_db()
    policy.refresh_from_db()
    assert (holiday.date, holiday.name) == (datetime.date(2026, 10, 1), "National Day")
    assert (policy.owner_review_days, policy.office_review_days, policy.max_validity_days) == (
        5,
        5,
        366,
    )
    assert list(Holiday.objects.values_list("name", flat=True)) == ["National Day"]


def test_outsider_staff_cannot_open_the_calendar(client, outsider, holiday):
    client.force_login(outsider)
    assert client.get("/admin/workdays/holiday/").status_code == 403
    assert client.get(f"/admin/workdays/holiday/{holiday.pk}/change/").status_code == 403


# --- read-only records: no save buttons ------------------------------------------------------


@pytest.fixture
def submitted(request_draft, requester):
    rs.request_submit(actor=requester, request=request_draft)
    return request_draft


@pytest.mark.parametrize("who", ["office", "auditor"])
def test_a_request_page_has_no_save_button(client, request, submitted, who):
    client.force_login(request.getfixturevalue(who))
    page = client.get(f"/admin/access_requests/request/{submitted.pk}/change/")
    assert page.status_code == 200
    assert submitted.purpose.encode() in page.content
    assert not SAVE_BUTTON.search(page.content)
    assert b'name="_continue"' not in page.content
    assert b'name="_addanother"' not in page.content


def test_a_ledger_entry_page_has_no_save_button(client, auditor, submitted):
    entry = LedgerEntry.objects.order_by("-index").first()
    client.force_login(auditor)
    page = client.get(f"/admin/ledger/ledgerentry/{entry.pk}/change/")
    assert page.status_code == 200
    assert entry.entry_type.encode() in page.content
    assert not SAVE_BUTTON.search(page.content)


def test_a_read_only_record_cannot_be_saved_by_post(client, office, submitted):
    client.force_login(office)
    response = client.post(
        f"/admin/access_requests/request/{submitted.pk}/change/", {"purpose": "Other."}
    )
    assert response.status_code == 403
    submitted.refresh_from_db()
    assert submitted.purpose != "Other."


def test_guardian_object_permissions_page_still_opens_for_inspection(client, db, released):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", password="x")  # noqa: S106
    client.force_login(admin)
    assert client.get(f"/admin/catalog/resource/{released.pk}/change/").status_code == 200
    perms = client.get(f"/admin/catalog/resource/{released.pk}/permissions/")
    assert perms.status_code == 200
    assert b"department:HEALTH" in perms.content


# --- admin actions report what they did ------------------------------------------------------


def test_an_action_reports_what_it_did_and_what_it_refused(
    client, office, submitted, steward, released, requester, departments
):
    from tests.conftest import REQUEST_ITEMS, request_data

    rs.request_endorse(actor=steward, request=submitted)  # in the office's review
    draft = rs.request_create(  # never submitted: nothing to reject yet
        actor=requester,
        department=departments["CIVIL"],
        resource=released,
        data=request_data(),
        items=REQUEST_ITEMS,
    )
    client.force_login(office)
    response = client.post(
        "/admin/access_requests/request/",
        {
            "action": "reject",
            "_selected_action": [submitted.pk, draft.pk],
            "apply": "1",
            "reason": "Purpose too broad.",
        },
    )
    assert response.status_code == 302
    messages = [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]
    assert messages[0] == (
        "warning",
        "Reject: 1 of 2 selected rows done. 1 refused and left unchanged:",
    )
    assert messages[1][0] == "error"
    assert messages[1][1].startswith(f"{draft}: ")
    assert len(messages) == 2
    submitted.refresh_from_db()
    draft.refresh_from_db()
    assert (submitted.state, draft.state) == ("rejected", "draft")


def test_the_release_uploads_sweep_job_is_seeded_once_and_its_reverse_removes_only_it(db):
    migration = importlib.import_module("govshare.migrations.0002_release_uploads_sweep")
    editor = SimpleNamespace(connection=connection)
    job = _job("release-uploads-sweep")
    job.enabled = False
    job.save()
    migration.seed_schedule(django_apps, editor)  # the name exists: left as the office has it
    assert (_job("release-uploads-sweep").enabled, PeriodicTask.objects.count()) == (False, 17)
    migration.unseed_schedule(django_apps, editor)
    assert not PeriodicTask.objects.filter(name="release-uploads-sweep").exists()
    assert PeriodicTask.objects.count() == 16
    assert _job("deliveries-sweep").interval.every == 15  # its interval is still in use
    migration.seed_schedule(django_apps, editor)
    again = _job("release-uploads-sweep")
    assert (again.task, again.interval.every, again.interval.period, again.enabled) == (
        "catalog.tasks.sweep_release_uploads",
        15,
        "seconds",
        True,
    )
