import datetime
from typing import Any

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.db.models import Count, Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from audit.models import AccessLog
from audit.services import client_address, signin_lockout_clear
from core.admin_actions import ServiceOnlyAdminMixin
from departments.permissions import can_clear_signin_lockouts, is_auditor, is_office_member
from ledger import witnesses
from ledger.models import LedgerCheckpoint, LedgerEntry, LedgerWitness


class AuditorOnlyMixin(ServiceOnlyAdminMixin):
    """Read only, and only for auditors (and superusers)."""

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.is_superuser or (request.user.is_staff and is_auditor(request.user))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)


@admin.register(AccessLog)
class AccessLogAdmin(AuditorOnlyMixin, admin.ModelAdmin):
    list_display = [
        "at",
        "user",
        "department",
        "action",
        "target",
        "records",
        "outcome",
        "remote_addr",
    ]
    list_filter = ["outcome", "action", "department", "at"]
    search_fields = ["target", "user__username", "department__code", "remote_addr"]
    list_select_related = ["user", "department"]
    date_hierarchy = "at"


@admin.register(LedgerEntry)
class LedgerEntryAdmin(AuditorOnlyMixin, admin.ModelAdmin):
    list_display = ["index", "created_at", "entry_type", "departments", "subject"]
    list_filter = ["entry_type"]
    search_fields = ["=index", "entry_type", "departments", "subject"]
    exclude = ["entry", "leaf_hash"]
    readonly_fields = ["index", "created_at", "entry_type", "departments", "subject"]


class OfficeOrAuditorMixin(ServiceOnlyAdminMixin):
    """Read only, for the office and the auditors (and superusers)."""

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        user = request.user
        return user.is_superuser or (user.is_staff and (is_auditor(user) or is_office_member(user)))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)


def _when(timestamp: int) -> str:
    return f"{datetime.datetime.fromtimestamp(timestamp, datetime.UTC):%Y-%m-%d %H:%M:%S} UTC"


def _witness_summary(request: HttpRequest) -> None:
    state = witnesses.status()
    if not state["quorum"]:
        messages.info(request, _("No witnesses are configured (LEDGER_WITNESSES)."))
        return
    text = _("Witnessed up to size %(n)s, latest %(m)s (quorum %(q)s).") % {
        "n": state["witnessed"],
        "m": state["latest"],
        "q": state["quorum"],
    }
    if state["witnessed"] == state["latest"]:
        messages.success(request, text)
    else:
        messages.warning(request, text)


@admin.register(LedgerCheckpoint)
class LedgerCheckpointAdmin(OfficeOrAuditorMixin, admin.ModelAdmin):
    list_display = ["tree_size", "created_at", "signed_by", "cosignature_count"]
    readonly_fields = ["tree_size", "note", "created_at", "signed_by", "cosigned"]
    exclude = ["root_hash"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[LedgerCheckpoint]:
        return super().get_queryset(request).annotate(cosigned_by=Count("cosignatures"))

    @admin.display(description=_("cosignatures"), ordering="cosigned_by")
    def cosignature_count(self, obj: LedgerCheckpoint) -> int:
        return obj.cosigned_by  # type: ignore[attr-defined]

    @admin.display(description=_("signed by log key"))
    def signed_by(self, obj: LedgerCheckpoint) -> str:
        return obj.signing_key_id or "—"

    @admin.display(description=_("cosigned by"))
    def cosigned(self, obj: LedgerCheckpoint) -> str:
        rows = obj.cosignatures.select_related("witness").order_by("witness__name")
        return ", ".join(f"{row.witness.name} ({_when(row.timestamp)})" for row in rows) or "—"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        _witness_summary(request)
        return super().changelist_view(request, extra_context)


@admin.register(LedgerWitness)
class LedgerWitnessAdmin(OfficeOrAuditorMixin, admin.ModelAdmin):
    list_display = ["name", "cosigned_size", "last_attempt_at", "last_answer", "failures", "alarm"]
    readonly_fields = [
        "name",
        "vkey",
        "url",
        "cosigned_size",
        "last_attempt_at",
        "last_answer",
        "failures",
        "next_attempt_at",
        "alarm",
        "alarm_at",
    ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        _witness_summary(request)
        return super().changelist_view(request, extra_context)


@admin.register(AccessAttempt)
class SigninLockoutAdmin(OfficeOrAuditorMixin, AxesAccessAttemptAdmin):
    """django-axes' failed sign-ins (one row per username and address), read only; the office's
    reviewers clear a lockout with the action, which records who cleared it in the access log.
    (AXES_ENABLE_ADMIN is off: this replaces axes' own admin.)"""

    list_display = [
        "attempt_time",
        "username",
        "ip_address",
        "failures_since_start",
        "status",
        "user_agent",
    ]
    fieldsets = (
        (None, {"fields": ("username", "ip_address", "failures_since_start", "attempt_time")}),
        (gettext_lazy("Client"), {"fields": ("user_agent", "http_accept", "path_info")}),
    )
    actions = ["clear_lockouts"]

    def has_clear_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or (
            request.user.is_staff and can_clear_signin_lockouts(request.user)
        )

    @admin.action(
        description=gettext_lazy("Unlock sign-in for the selected rows"), permissions=["clear"]
    )
    def clear_lockouts(self, request: HttpRequest, queryset: QuerySet[AccessAttempt]) -> None:
        cleared = signin_lockout_clear(
            actor=request.user,  # type: ignore[arg-type]  # admin pages need a signed-in user
            attempts=queryset,
            remote_addr=client_address(request),
        )
        text = ngettext(
            "%(n)d sign-in lockout cleared: that user may sign in again now.",
            "%(n)d sign-in lockouts cleared: those users may sign in again now.",
            cleared,
        )
        self.message_user(request, text % {"n": cleared}, messages.SUCCESS)
