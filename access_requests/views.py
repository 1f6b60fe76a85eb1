"""Request pages. Views parse input, call one service or selector, and render.

The model instance is called ``access_request`` throughout, so that ``request`` is always the
HTTP request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from access_requests import selectors, services
from access_requests.forms import ApproveForm, RequestForm
from access_requests.models import Request
from access_requests.selectors import AnyUser
from catalog.selectors import resource_for_user
from core.exceptions import DomainError
from core.forms import ReasonForm, add_service_errors, error_message
from core.paging import CheapCountPaginator
from departments.models import Department, Membership
from departments.permissions import (
    can_decide,
    can_review_as_owner,
    department_ids_with_role,
    is_member_of,
    is_requester_for,
)

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise  # stub-only: str or a lazy string

PAGE_SIZE = 25
S = Request.State

# action: (service function, message once done)
STEPS: dict[str, tuple[Callable[..., Request], _StrOrPromise]] = {
    "submit": (services.request_submit, gettext_lazy("The request is submitted for review.")),
    "withdraw": (services.request_withdraw, gettext_lazy("The request is withdrawn.")),
    "appeal": (services.request_appeal, gettext_lazy("Your appeal is sent to the office.")),
    "endorse": (services.request_endorse, gettext_lazy("You endorsed the request.")),
    "return": (services.request_return, gettext_lazy("The request is returned for changes.")),
    "reject": (services.request_reject, gettext_lazy("The request is rejected.")),
    "approve": (services.request_approve, gettext_lazy("The request is approved.")),
}
# Steps that carry a reason, in the order their forms appear on the page.
REASON_ACTIONS = ("endorse", "return", "reject", "appeal", "withdraw")
REASON_REQUIRED = {"appeal", "return", "reject"}
OWNER_ACTIONS = {"endorse", "return", "reject"}
DECIDER_ACTIONS = {"approve", "return", "reject"}


def _requester_departments(user: AnyUser) -> list[Department]:
    ids = department_ids_with_role(user, Membership.Role.REQUESTER)
    return list(Department.objects.filter(pk__in=ids, is_active=True).order_by("code"))


def _request_for_requester(request: HttpRequest, pk: int) -> Request:
    """The request if visible (404 otherwise) and filed by the user's department (403 otherwise)."""
    access_request = selectors.request_for_user(request.user, pk)
    if not is_requester_for(request.user, access_request.requesting_department_id):
        raise PermissionDenied(
            _("Only a requester of %(dept)s can change its requests.")
            % {"dept": access_request.requesting_department.code}
        )
    return access_request


def _available_actions(user: AnyUser, access_request: Request) -> set[str]:
    """The steps this user may take now: the transition table, filtered by who they are."""
    state = access_request.state
    possible = {a for a, (sources, _to) in services.TRANSITIONS.items() if state in sources}
    actions = set()
    if is_requester_for(user, access_request.requesting_department_id):
        actions |= possible & {"submit", "withdraw"}
        if "appeal" in possible and not access_request.appealed:
            actions.add("appeal")
        if state in services.EDITABLE:
            actions.add("edit")
    if state == S.OWNER_REVIEW and can_review_as_owner(user, access_request):
        actions |= possible & OWNER_ACTIONS
    if state == S.OFFICE_REVIEW and can_decide(user, access_request):
        actions |= possible & DECIDER_ACTIONS
    return actions


def _paginated(request: HttpRequest, queryset: QuerySet[Request], template: str) -> HttpResponse:
    page = CheapCountPaginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, template, {"page": page})


def request_list(request: HttpRequest) -> HttpResponse:
    return _paginated(
        request, selectors.department_requests(request.user), "access_requests/request_list.html"
    )


def request_queue(request: HttpRequest) -> HttpResponse:
    return _paginated(
        request, selectors.review_queue(request.user), "access_requests/request_queue.html"
    )


def request_create(request: HttpRequest) -> HttpResponse:
    departments = _requester_departments(request.user)
    if not departments:
        raise PermissionDenied(_("Only requesters can file requests."))
    resource_id = request.GET.get("resource", "")
    if not resource_id.isdigit():
        raise Http404(_("Choose a resource in the catalog first."))
    resource = resource_for_user(request.user, int(resource_id))
    form = RequestForm(
        request.POST or None, request.FILES or None, resource=resource, departments=departments
    )
    if request.method == "POST" and form.is_valid():
        try:
            access_request = services.request_create(
                actor=request.user,
                # Never None here: ``departments`` is not empty (checked above).
                department=form.department_choice(),  # type: ignore[arg-type]
                resource=resource,
                data=form.service_data(),
                items=form.items(),
                document=form.cleaned_data.get("supporting_document"),
            )
        except (ValidationError, DomainError) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Draft saved. Check it, then submit it for review."))
            return redirect("access_requests:request_detail", pk=access_request.pk)
    return render(
        request,
        "access_requests/request_form.html",
        {"form": form, "resource": resource, "access_request": None},
        status=400 if request.method == "POST" else 200,
    )


def request_edit(request: HttpRequest, pk: int) -> HttpResponse:
    access_request = _request_for_requester(request, pk)
    if access_request.state not in services.EDITABLE:
        messages.error(request, _("Only a draft or a returned request can be changed."))
        return redirect("access_requests:request_detail", pk=access_request.pk)
    form = RequestForm(
        request.POST or None,
        request.FILES or None,
        resource=access_request.resource,
        instance=access_request,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.request_update(
                actor=request.user,
                request=access_request,
                data=form.service_data(),
                items=form.items(),
                document=form.cleaned_data.get("supporting_document"),
            )
        except (ValidationError, DomainError) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("access_requests:request_detail", pk=access_request.pk)
    return render(
        request,
        "access_requests/request_form.html",
        {"form": form, "resource": access_request.resource, "access_request": access_request},
        status=400 if request.method == "POST" else 200,
    )


def _decision_form(
    action: str, items: list[Any], data: QueryDict | None = None
) -> ApproveForm | ReasonForm | None:
    """The form of a step that has one (bound to ``data`` when it was posted)."""
    if action == "approve":
        return ApproveForm(data, requested=[i.name for i in items], auto_id="id_approve_%s")
    if action in REASON_ACTIONS:
        form = ReasonForm(data, required=False, auto_id=f"id_{action}_%s")
        # Marked required where the service requires it; the service checks it and says
        # what the reason is for ("Give the reason for returning the request.").
        form.fields["reason"].required = action in REASON_REQUIRED and data is None
        return form
    return None


def _marked_required(action: str, form: ApproveForm | ReasonForm) -> ApproveForm | ReasonForm:
    """A posted reason form, validated by the service, shows "(required)" again."""
    if isinstance(form, ReasonForm) and action in REASON_REQUIRED:
        form.fields["reason"].required = True
    return form


def _detail(
    request: HttpRequest,
    access_request: Request,
    posted: tuple[str, ApproveForm | ReasonForm] | None = None,
) -> HttpResponse:
    """The request page; ``posted`` is a refused step's form, shown again with its errors."""
    steps = list(selectors.timeline(access_request))
    for step in steps:
        step.label = selectors.STEP_LABELS.get(step.action, step.action)  # type: ignore[attr-defined]
    items = list(access_request.items.all())
    actions = _available_actions(request.user, access_request)
    forms = {
        action: _decision_form(action, items)
        for action in ("approve", *REASON_ACTIONS)
        if action in actions
    }
    if posted is not None:
        forms[posted[0]] = _marked_required(*posted)
    return render(
        request,
        "access_requests/request_detail.html",
        {
            "access_request": access_request,
            "items": items,
            "steps": steps,
            "grant": getattr(access_request, "grant", None),
            "actions": actions,
            "is_filer": is_member_of(request.user, access_request.requesting_department_id),
            "approve_form": forms.pop("approve", None),
            "reason_forms": forms,
            "refused_form": posted[1] if posted else None,
        },
        status=400 if posted else 200,
    )


def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, selectors.request_for_user(request.user, pk))


def _step_input(form: ApproveForm | ReasonForm | None) -> dict[str, Any]:
    """The keyword arguments of the step's service function, from its valid form."""
    if form is None:
        return {}
    data = form.cleaned_data
    if isinstance(form, ApproveForm):
        return {
            "fields": data["items"],
            "max_records_per_day": data["max_records_per_day"],
            "max_calls_per_day": data["max_calls_per_day"],
            "reason": data["reason"],
        }
    return {"reason": data["reason"]}


@require_POST
def request_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One step. A form error (or a service's refusal of the input) shows the page again with
    every error at its field at once; a refused transition is a message."""
    if action not in STEPS:
        raise Http404(_("No such step."))
    access_request = selectors.request_for_user(request.user, pk)
    step, done = STEPS[action]
    form = _decision_form(action, list(access_request.items.all()), request.POST)
    valid = form is None or form.is_valid()
    try:
        with transaction.atomic():
            # Whether the step is offered is read under the row lock the service takes too, so a
            # refused input never reaches a step that another user's move has just made possible.
            Request.objects.select_for_update().filter(pk=access_request.pk).values_list("pk").get()
            access_request.refresh_from_db()
            offered = action in _available_actions(request.user, access_request)
            if offered and form is not None and not valid:
                return _detail(request, access_request, (action, form))
            # A step the user cannot take now goes to the service as it is, which says why not.
            step(
                actor=request.user,
                request=access_request,
                **(_step_input(form) if valid else {}),
            )
    except ValidationError as exc:
        if form is None or not offered:
            messages.error(request, error_message(exc))
            return redirect("access_requests:request_detail", pk=access_request.pk)
        add_service_errors(form, _as_form_errors(exc), field=_MAIN_FIELD[action])
        return _detail(request, access_request, (action, form))
    except DomainError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, done)
    return redirect("access_requests:request_detail", pk=access_request.pk)


# Where a service's error about the step's input shows on its form.
_MAIN_FIELD = {"approve": "items"} | {action: "reason" for action in REASON_ACTIONS}


def _as_form_errors(exc: ValidationError) -> ValidationError:
    """The service names the approved items ``fields``; the form calls them ``items``."""
    if hasattr(exc, "error_dict"):
        renamed = {"items" if k == "fields" else k: v for k, v in exc.message_dict.items()}
        return ValidationError(renamed)
    return exc
