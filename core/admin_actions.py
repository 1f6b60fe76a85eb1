"""Admin actions that ask for a reason (and options) before calling a service on each object."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy, ngettext

from core.exceptions import DomainError
from core.forms import error_message

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise  # stub-only: str or a lazy string

# An admin action: (model admin, request, selected rows) -> the form page, or None when done.
AdminAction = Callable[
    ["admin.ModelAdmin[Any]", HttpRequest, QuerySet[Any]], TemplateResponse | None
]


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (recorded and sent to the parties)"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=1000,
    )


def service_action(
    *,
    name: str,
    label: _StrOrPromise,
    call: Callable[[Any, Any, dict[str, Any]], object],
    form_class: Callable[..., forms.Form] = ReasonForm,
) -> AdminAction:
    """An admin action that shows ``form_class`` for the selected rows, then runs ``call``.

    ``call(user, obj, cleaned_data)`` must be a service call; refusals are reported per row and
    change nothing for that row.
    """

    def action(
        modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any]
    ) -> TemplateResponse | None:
        if "apply" in request.POST:
            form = (
                form_class(request.POST, objects=queryset)
                if _takes_objects(form_class)
                else (form_class(request.POST))
            )
            if form.is_valid():
                failed: list[str]
                done, failed = 0, []
                for obj in queryset:
                    try:
                        call(request.user, obj, form.cleaned_data)
                        done += 1
                    except (ValidationError, PermissionDenied, DomainError) as exc:
                        failed.append(f"{obj}: {error_message(exc)}")
                _report(modeladmin, request, label, done, failed)
                return None
        else:
            form = form_class(objects=queryset) if _takes_objects(form_class) else form_class()
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": label,
            "objects": queryset,
            "form": form,
            "action": name,
            "opts": modeladmin.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/govshare_action_form.html", context)

    action.__name__ = name
    return admin.action(description=label)(action)


def _report(
    modeladmin: admin.ModelAdmin[Any],
    request: HttpRequest,
    label: _StrOrPromise,
    done: int,
    failed: list[str],
) -> None:
    """What the action did: one summary (how many of the selected rows it changed, how many
    were refused), then each refused row with the reason it was refused."""
    total = done + len(failed)
    summary = ngettext(
        "%(action)s: %(done)d of %(total)d selected row done.",
        "%(action)s: %(done)d of %(total)d selected rows done.",
        total,
    ) % {"action": label, "done": done, "total": total}
    if failed:
        summary += " " + ngettext(
            "%(n)d refused and left unchanged:",
            "%(n)d refused and left unchanged:",
            len(failed),
        ) % {"n": len(failed)}
    level = messages.SUCCESS
    if failed:
        level = messages.WARNING if done else messages.ERROR
    modeladmin.message_user(request, summary, level=level)
    for failure in failed:
        modeladmin.message_user(request, failure, level=messages.ERROR)


def _takes_objects(form_class: Callable[..., forms.Form]) -> bool:
    return getattr(form_class, "takes_objects", False)


if TYPE_CHECKING:
    _AdminBase = admin.ModelAdmin[Any]  # what the mixin is mixed into
else:
    _AdminBase = object


class ServiceOnlyAdminMixin(_AdminBase):
    """Read-only rows: they change only through admin actions that call the services.

    Viewing needs the model's view permission. ``has_change_permission`` is false, so a row's
    page is Django's read-only view, with a Close link and no save buttons; the one exception is
    guardian's object-permission pages (which ask for it), opened with GET for inspection only.
    """

    def get_readonly_fields(
        self, request: HttpRequest, obj: Model | None = None
    ) -> list[str] | tuple[str, ...]:
        return self.readonly_fields or [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        match = request.resolver_match
        inspecting = (
            request.method == "GET"
            and match is not None
            and (match.url_name or "").endswith(GUARDIAN_PAGES)
        )
        return inspecting and self.has_view_permission(request, obj)


# The url names' endings of guardian's object-permission pages (GuardedModelAdmin.get_urls).
GUARDIAN_PAGES = ("_permissions", "_permissions_manage_user", "_permissions_manage_group")
