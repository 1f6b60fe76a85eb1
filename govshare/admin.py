"""The periodic jobs in admin (django-celery-beat's models), for the office.

The jobs themselves are the portal's code and were seeded by a migration: the office changes
when each runs (its interval or crontab), switches it off and on, or runs it now, and may add
the interval or crontab it wants; nobody adds or deletes a job here, or changes the task it
runs or its arguments. The rules are the office's settings' (departments/admin_mixins.py):
office reviewers edit, the office and the auditors read. Saving a job or a schedule marks the
schedule changed, and a running beat (DatabaseScheduler) reads it again within seconds.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    PeriodicTasks,
    SolarSchedule,
)

from departments.admin_mixins import OfficeSettingsAdminMixin
from departments.permissions import can_read_office_settings
from govshare.celery import app

for model in (PeriodicTask, IntervalSchedule, CrontabSchedule, SolarSchedule, ClockedSchedule):
    admin.site.unregister(model)


class PeriodicJobForm(forms.ModelForm):
    class Meta:
        model = PeriodicTask
        fields = ["enabled", "interval", "crontab", "description"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("interval")) == bool(data.get("crontab")):
            raise forms.ValidationError(
                _(
                    "Choose either an interval or a crontab for this job, not both and not "
                    "neither: it runs on exactly one schedule."
                )
            )
        return data

    def validate_unique(self) -> None:
        # The model checks "one schedule" in validate_unique too, in words of its own: once.
        if not self.has_error(NON_FIELD_ERRORS):
            super().validate_unique()


@admin.register(PeriodicTask)
class PeriodicJobAdmin(OfficeSettingsAdminMixin, admin.ModelAdmin):
    form = PeriodicJobForm
    list_display = ["name", "enabled", "interval", "crontab", "last_run_at"]
    list_filter = ["enabled"]
    search_fields = ["name", "task", "description"]
    list_select_related = ["interval", "crontab"]
    ordering = ["name"]
    fieldsets = [
        (None, {"fields": ["job", "runs_task", "description", "enabled"]}),
        (gettext_lazy("When it runs"), {"fields": ["interval", "crontab", "crontab_in_words"]}),
        (gettext_lazy("Runs so far"), {"fields": ["last_run_at", "total_run_count"]}),
    ]
    readonly_fields = ["job", "runs_task", "crontab_in_words", "last_run_at", "total_run_count"]
    actions = ["enable_jobs", "disable_jobs", "run_jobs"]

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    # The name and task as plain values: the model's help texts ask for input they never take.
    @admin.display(description=gettext_lazy("job"))
    def job(self, obj: PeriodicTask) -> str:
        return obj.name

    @admin.display(description=gettext_lazy("task"))
    def runs_task(self, obj: PeriodicTask) -> str:
        return obj.task

    @admin.display(description=gettext_lazy("crontab in words"))
    def crontab_in_words(self, obj: PeriodicTask) -> str:
        return obj.crontab.human_readable if obj.crontab else "—"

    def _switch(self, request: HttpRequest, queryset: QuerySet[PeriodicTask], on: bool) -> None:
        names = sorted(queryset.exclude(enabled=on).values_list("name", flat=True))
        unchanged = queryset.filter(enabled=on).count()
        if names:
            # A queryset update sends no signal: mark the schedule changed for beat ourselves.
            update = {"enabled": True} if on else {"enabled": False, "last_run_at": None}
            PeriodicTask.objects.filter(name__in=names).update(**update)
            PeriodicTasks.update_changed()
        text = (
            ngettext(
                "%(n)d job switched on: %(names)s.",
                "%(n)d jobs switched on: %(names)s.",
                len(names),
            )
            if on
            else ngettext(
                "%(n)d job switched off: %(names)s.",
                "%(n)d jobs switched off: %(names)s.",
                len(names),
            )
        )
        self.message_user(request, text % {"n": len(names), "names": ", ".join(names) or "—"})
        if unchanged:
            already = (
                ngettext("%(n)d was on already.", "%(n)d were on already.", unchanged)
                if on
                else ngettext("%(n)d was off already.", "%(n)d were off already.", unchanged)
            )
            self.message_user(request, already % {"n": unchanged}, messages.WARNING)

    @admin.action(description=gettext_lazy("Switch the selected jobs on"), permissions=["change"])
    def enable_jobs(self, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> None:
        self._switch(request, queryset, on=True)

    @admin.action(description=gettext_lazy("Switch the selected jobs off"), permissions=["change"])
    def disable_jobs(self, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> None:
        self._switch(request, queryset, on=False)

    @admin.action(description=gettext_lazy("Run the selected jobs now"), permissions=["change"])
    def run_jobs(self, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> None:
        app.loader.import_default_modules()
        sent, unknown = [], []
        for job in queryset.order_by("name"):
            task = app.tasks.get(job.task)
            if task is None:
                unknown.append(job.name)
                continue
            task.apply_async(headers={"periodic_task_name": job.name})
            sent.append(job.name)
        if sent:
            self.message_user(
                request,
                ngettext(
                    "%(n)d job started now (its schedule is unchanged): %(names)s.",
                    "%(n)d jobs started now (their schedules are unchanged): %(names)s.",
                    len(sent),
                )
                % {"n": len(sent), "names": ", ".join(sent)},
            )
        for name in unknown:
            self.message_user(
                request,
                _("%(name)s was not run: its task is not one this portal has.") % {"name": name},
                messages.ERROR,
            )


class JobsOnThisScheduleInline(admin.TabularInline):
    model = PeriodicTask
    fields = ("name", "enabled", "last_run_at")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    verbose_name = verbose_name_plural = gettext_lazy("jobs on this schedule")

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.is_superuser or can_read_office_settings(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ScheduleAdmin(OfficeSettingsAdminMixin, admin.ModelAdmin):
    """An interval or a crontab, with the jobs that run on it. Never deleted here: deleting a
    schedule would delete the jobs that use it."""

    inlines = [JobsOnThisScheduleInline]

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(IntervalSchedule)
class IntervalScheduleAdmin(ScheduleAdmin):
    list_display = ["__str__", "every", "period"]


@admin.register(CrontabSchedule)
class CrontabScheduleAdmin(ScheduleAdmin):
    list_display = ["__str__", "human_readable"]
    fields = [
        "human_readable",
        "minute",
        "hour",
        "day_of_week",
        "day_of_month",
        "month_of_year",
        "timezone",
    ]
    readonly_fields = ["human_readable"]
