"""Catalog pages. Views parse input, call one service or selector, and render."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from catalog import release_uploads, selectors, services
from catalog.filters import ResourceFilter
from catalog.forms import (
    DataItemFormSet,
    ReleaseUploadForm,
    ResourceForm,
    RetireForm,
    items_from_formset,
)
from catalog.models import Resource
from core.exceptions import DomainError
from core.forms import add_service_errors
from core.paging import CheapCountPaginator
from core.templatetags.numbers import grouped
from core.views import step_response
from departments.permissions import can_manage_resource, steward_departments

PAGE_SIZE = 25


def _resource_for_steward(request, pk, perm="catalog.change_resource"):
    """The resource if visible (404 otherwise) and manageable by the user (403 otherwise)."""
    resource = selectors.resource_for_user(request.user, pk)
    if not can_manage_resource(request.user, resource, perm):
        raise PermissionDenied(_("Only the owning department's data stewards can do this."))
    return resource


def resource_list(request):
    filterset = ResourceFilter(
        request.GET,
        queryset=selectors.catalog_queryset(request.user).prefetch_related("data_items"),
        request=request,
    )
    page = CheapCountPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "catalog/resource_list.html",
        {
            "filterset": filterset,
            "page": page,
            "query": query.urlencode(),
            "can_create": steward_departments(request.user).exists(),
        },
    )


def resource_detail(request, pk):
    resource = selectors.resource_for_user(request.user, pk)
    return render(
        request,
        "catalog/resource_detail.html",
        {
            "resource": resource,
            "items": resource.data_items.all(),
            "releases": selectors.releases_of(resource),
            "related": resource.related_resources.filter(status=Resource.Status.PUBLISHED),
            "can_manage": can_manage_resource(request.user, resource),
            # The steps the transition table allows from the status ("publish", "retire").
            "actions": services.RESOURCES.allowed_actions(resource),
            "retire_form": RetireForm(),
        },
    )


def _related_choices(user, resource=None):
    queryset = selectors.resources_visible_to(user).order_by("title")
    return queryset.exclude(pk=resource.pk) if resource else queryset


def _item_initial(resource):
    return [{k: getattr(i, k) for k in services.ITEM_FIELDS} for i in resource.data_items.all()]


def resource_create(request):
    owners = steward_departments(request.user)
    if not owners.exists():
        raise PermissionDenied(_("Only data stewards can create catalog entries."))
    form = ResourceForm(
        request.POST or None, owner_choices=owners, related_choices=_related_choices(request.user)
    )
    formset = DataItemFormSet(request.POST or None, prefix="items")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            resource = services.resource_create(
                actor=request.user,
                owner_department=form.cleaned_data["owner_department"],
                data=form.service_data(),
                methods=form.cleaned_data["methods"],
                items=items_from_formset(formset),
                related=form.cleaned_data["related_resources"],
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Draft %(id)s created.") % {"id": resource.identifier})
            return redirect("catalog:resource_detail", pk=resource.pk)
    return render(
        request,
        "catalog/resource_form.html",
        {"form": form, "formset": formset, "resource": None},
        status=400 if request.method == "POST" else 200,
    )


def resource_edit(request, pk):
    resource = _resource_for_steward(request, pk)
    form = ResourceForm(
        request.POST or None,
        instance=resource,
        owner_choices=steward_departments(request.user),
        related_choices=_related_choices(request.user, resource),
    )
    formset = DataItemFormSet(request.POST or None, prefix="items", initial=_item_initial(resource))
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            services.resource_update(
                actor=request.user,
                resource=resource,
                data=form.service_data(),
                methods=form.cleaned_data["methods"],
                items=items_from_formset(formset),
                related=form.cleaned_data["related_resources"],
            )
        except (ValidationError, DomainError) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("catalog:resource_detail", pk=resource.pk)
    return render(
        request,
        "catalog/resource_form.html",
        {"form": form, "formset": formset, "resource": resource},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
def resource_publish(request, pk):
    resource = _resource_for_steward(request, pk, "catalog.publish_resource")
    return step_response(
        request,
        lambda: services.resource_publish(actor=request.user, resource=resource),
        done=_("The resource is published."),
        then=redirect("catalog:resource_detail", pk=resource.pk),
    )


@require_POST
def resource_retire(request, pk):
    resource = _resource_for_steward(request, pk, "catalog.publish_resource")
    form = RetireForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for retiring the resource."))
        return redirect("catalog:resource_detail", pk=resource.pk)
    return step_response(
        request,
        lambda: services.resource_retire(
            actor=request.user, resource=resource, reason=form.cleaned_data["reason"]
        ),
        done=_("The resource is retired."),
        then=redirect("catalog:resource_detail", pk=resource.pk),
    )


def release_upload(request, pk):
    resource = _resource_for_steward(request, pk, "catalog.upload_release")
    # Bound on every POST: an empty body (no file, or a chunked one) gets "required", not a
    # blank form.
    posted = request.method == "POST"
    form = ReleaseUploadForm(request.POST, request.FILES) if posted else ReleaseUploadForm()
    status = 200
    if posted:
        status = 400
        if form.is_valid():
            try:
                job = release_uploads.release_upload_start(
                    actor=request.user, resource=resource, upload=form.cleaned_data["file"]
                )
            except (ValidationError, DomainError) as exc:
                status = getattr(exc, "status_code", 400)
                add_service_errors(form, exc, field="file")
            else:
                return redirect(job)
    return render(
        request,
        "catalog/release_form.html",
        {"resource": resource, "form": form, "max_bytes": settings.RELEASE_MAX_BYTES},
        status=status,
    )


def progress_summary(job):
    """The job's progress in a sentence of the user's language (the page and its JSON)."""
    total = job.rows_total
    if job.state == job.State.SUCCEEDED:
        return ngettext(
            "%(n)s row checked and loaded.", "%(n)s rows checked and loaded.", job.rows_checked
        ) % {"n": grouped(job.rows_checked)}
    if job.state == job.State.FAILED:
        if not job.report:
            return job.error
        return ngettext(
            "%(checked)s rows checked; %(n)s problem found.",
            "%(checked)s rows checked; %(n)s problems found.",
            job.problems_so_far,
        ) % {"checked": grouped(job.rows_checked), "n": grouped(job.problems_so_far)}
    if job.state == job.State.QUEUED:
        return _("Waiting for a worker to check the file.")
    # No row checked yet (the heartbeat may already beat): the count, or the total, so far.
    if job.state == job.State.RUNNING and not job.rows_checked:
        if total is None:
            return _("Counting the rows of the file.")
        return ngettext("Checking %(total)s row.", "Checking %(total)s rows.", total) % {
            "total": grouped(total)
        }
    checked = grouped(job.rows_checked)
    problems = ngettext("%(n)s problem so far", "%(n)s problems so far", job.problems_so_far) % {
        "n": grouped(job.problems_so_far)
    }
    if total is None:
        return _("%(checked)s rows checked; %(problems)s.") % {
            "checked": checked,
            "problems": problems,
        }
    return _("%(checked)s of %(total)s rows checked; %(problems)s.") % {
        "checked": checked,
        "total": grouped(total),
        "problems": problems,
    }


def release_upload_detail(request, pk, job):
    job = selectors.release_upload_for_user(request.user, pk, job)
    return render(
        request,
        "catalog/release_upload_detail.html",
        {
            "job": job,
            "resource": job.resource,
            "summary": progress_summary(job),
            # A bar with a value once there are counts to show; until then an indeterminate one.
            "counted": job.rows_total is not None and (job.finished or job.rows_checked > 0),
            "accepted": _("Release %(n)d accepted: %(rows)d rows.")
            % {"n": job.release.sequence, "rows": job.release.row_count}
            if job.release
            else "",
            "report": job.report if job.state == job.State.FAILED else None,
        },
    )


def release_upload_status(request, pk, job):
    job = selectors.release_upload_for_user(request.user, pk, job)
    return JsonResponse(
        {
            "state": job.state,
            "state_label": job.get_state_display(),
            "finished": job.finished,
            "rows_total": job.rows_total,
            "rows_checked": job.rows_checked,
            "problems_so_far": job.problems_so_far,
            "summary": progress_summary(job),
            "release": job.release.sequence if job.release else None,
            "url": job.get_absolute_url(),
        }
    )
