from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import F, QuerySet
from django.db.models.expressions import Combinable
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from core.admin_actions import ServiceOnlyAdminMixin, service_action
from core.admin_columns import code_column
from rights import services
from rights.models import Attestation, Grant, GrantUsage

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise  # stub-only: str or a lazy string


# guardian types ``change_form_template`` as ``str``, the Django stubs as a template or None.
@admin.register(Grant)
class GrantAdmin(ServiceOnlyAdminMixin, GuardedModelAdmin, SimpleHistoryAdmin):  # type: ignore[misc]
    list_display = [
        "id",
        code_column("resource__identifier", _("resource")),
        code_column("grantee_department__code", _("grantee")),
        "method",
        "status",
        "valid_until",
    ]
    list_filter = [
        "status",
        "method",
        "grantee_department",
        ("resource", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = [
        "=id",
        "resource__identifier",
        "resource__title",
        "grantee_department__code",
        "purpose",
    ]
    list_select_related = ["resource", "grantee_department"]
    actions = [
        service_action(
            name="suspend",
            label=_("Suspend"),
            call=lambda user, obj, data: services.grant_suspend(
                actor=user, grant=obj, reason=data["reason"]
            ),
        ),
        service_action(
            name="resume",
            label=_("Resume"),
            call=lambda user, obj, data: services.grant_resume(
                actor=user, grant=obj, reason=data["reason"]
            ),
        ),
        service_action(
            name="revoke",
            label=_("Revoke"),
            call=lambda user, obj, data: services.grant_revoke(
                actor=user, grant=obj, reason=data["reason"]
            ),
        ),
    ]


@admin.register(GrantUsage)
class GrantUsageAdmin(ServiceOnlyAdminMixin, admin.ModelAdmin):
    """What the daily volume limits count; the access log holds each call."""

    list_display = ["grant", "day", "action", "calls", "records"]
    list_filter = ["action", "day", "grant__grantee_department"]
    search_fields = ["=grant__id"]
    list_select_related = ["grant"]
    date_hierarchy = "day"


class AttestationOverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, _StrOrPromise]]:
        return [("yes", _("Overdue")), ("no", _("On time or attested"))]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Attestation]
    ) -> QuerySet[Attestation]:
        late = {"state": Attestation.State.PENDING, "overdue_since__isnull": False}
        if self.value() == "yes":
            return queryset.filter(**late)
        if self.value() == "no":
            return queryset.exclude(**late)
        return queryset


@admin.register(Attestation)
class AttestationAdmin(ServiceOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "id",
        "grant",
        "grantee",
        "state",
        "due_date",
        "is_overdue",
        "kind",
        "attested_at",
    ]
    list_filter = [AttestationOverdueFilter, "state", "kind", "grant__grantee_department"]
    search_fields = ["=id", "=grant__id", "grant__grantee_department__code"]
    list_select_related = ["grant__grantee_department", "grant__resource"]

    def get_ordering(self, request: HttpRequest) -> list[str | Combinable]:
        # The office's queue: overdue pending attestations first, then the earliest due.
        return ["state", F("overdue_since").asc(nulls_last=True), "due_date", "-id"]

    @admin.display(description=_("grantee"), ordering="grant__grantee_department__code")
    def grantee(self, obj: Attestation) -> str:
        return obj.grant.grantee_department.code

    @admin.display(boolean=True, description=_("overdue"))
    def is_overdue(self, obj: Attestation) -> bool:
        return obj.state == Attestation.State.PENDING and obj.overdue_since is not None
