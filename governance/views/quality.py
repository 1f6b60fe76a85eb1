"""Quality report and demand pages. Views parse input, call one service or selector, and render.

Fetching goes through the selectors, so a report or demand the user may not see is a 404; the
services refuse a step the user may not take (shown as a message, nothing changed).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit.selectors import ledger_unreadable
from catalog.selectors import resource_for_user
from core.exceptions import DomainError
from core.forms import add_service_errors, error_message
from departments.models import Department
from departments.permissions import (
    can_answer_quality_report,
    can_follow_up_quality_report,
    quality_reporter_department_ids,
)
from governance import selectors
from governance.forms import (
    QualityReportForm,
    ReasonForm,
    ResolveForm,
)
from governance.models import QualityReport
from governance.permissions import department_may_report_quality
from governance.services import quality as services

PAGE_SIZE = 25

STEP_LABELS = {
    "file": gettext_lazy("Filed"),
    "acknowledge": gettext_lazy("Acknowledged by the owner"),
    "answer": gettext_lazy("Answered"),
    "resolve": gettext_lazy("Resolved"),
    "confirm": gettext_lazy("Confirmed and closed"),
    "reopen": gettext_lazy("Reopened"),
    "route": gettext_lazy("Routed to a likely owner"),
    "decline": gettext_lazy("Declined"),
    "withdraw": gettext_lazy("Withdrawn"),
    "join": gettext_lazy("Joined by another department"),
}
REPORT_STEPS = {
    "acknowledge": (
        services.quality_report_acknowledge,
        gettext_lazy("You acknowledged the report."),
    ),
    "answer": (services.quality_report_answer, gettext_lazy("Your answer is sent.")),
    "resolve": (services.quality_report_resolve, gettext_lazy("The report is resolved.")),
    "confirm": (services.quality_report_confirm, gettext_lazy("The report is closed.")),
    "reopen": (services.quality_report_reopen, gettext_lazy("The report is reopened.")),
}
OWNER_REPORT_ACTIONS = {"acknowledge", "answer", "resolve"}
REASON_REQUIRED = {"answer", "reopen"}
REPORTER_ACTIONS = {"confirm", "reopen"}


def _labelled(steps):
    steps = list(steps)
    for step in steps:
        step.label = STEP_LABELS.get(step.action, step.action)
    return steps


def _possible(transitions, state):
    return {a for a, (sources, _to) in transitions.items() if state in sources}


def _departments(ids):
    return list(Department.objects.filter(pk__in=ids, is_active=True).order_by("code"))


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request):
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- quality reports ------------------------------------------------------------------------


def quality_list(request):
    state = request.GET.get("state", "")
    if state not in QualityReport.State.values:
        state = ""
    queryset = selectors.quality_report_list(request.user, state=state or None)
    return render(
        request,
        "governance/quality_list.html",
        {
            "page": _page(request, queryset),
            "query": _query_without_page(request),
            "state": state,
            "states": QualityReport.State.choices,
        },
    )


def quality_create(request):
    resource_id = request.GET.get("resource", "")
    if not resource_id.isdigit():
        raise Http404(_("Choose a resource in the catalog first."))
    resource = resource_for_user(request.user, int(resource_id))
    departments = [
        department
        for department in _departments(quality_reporter_department_ids(request.user))
        if department_may_report_quality(department, resource)
    ]
    if not departments:
        raise PermissionDenied(
            _("Only a department holding a grant on this resource, or the office, can report.")
        )
    form = QualityReportForm(request.POST or None, resource=resource, departments=departments)
    if request.method == "POST" and form.is_valid():
        try:
            report = services.quality_report_file(
                actor=request.user,
                department=form.department_choice(),
                resource=resource,
                kind=form.cleaned_data["kind"],
                item=form.cleaned_data["item"],
                lines=form.cleaned_data["lines"],
                description=form.cleaned_data["description"],
            )
        except (ValidationError, DomainError) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Report filed; the owner's stewards are told."))
            return redirect("governance:quality_detail", pk=report.pk)
    return render(
        request,
        "governance/quality_form.html",
        {"form": form, "resource": resource},
        status=400 if request.method == "POST" else 200,
    )


def _report_actions(user, report):
    possible = _possible(services.QUALITY_TRANSITIONS, report.state)
    actions = set()
    if can_answer_quality_report(user, report):
        actions |= possible & OWNER_REPORT_ACTIONS
    if can_follow_up_quality_report(user, report):
        actions |= possible & REPORTER_ACTIONS
    return actions


def _report_form(action, report, data=None):
    if action == "resolve":
        return ResolveForm(data, report=report, auto_id="id_resolve_%s")
    # The service says when a reason is required, and what for; the form marks it.
    form = ReasonForm(
        data,
        required=False,
        label=_("Answer") if action == "answer" else None,
        auto_id=f"id_{action}_%s",
    )
    form.fields["reason"].required = data is None and action in REASON_REQUIRED
    return form


def _report_page(request, report, posted=None):
    """The report page; ``posted`` is a refused step's form, shown again with its errors."""
    actions = _report_actions(request.user, report)
    forms = {
        action: _report_form(action, report)
        for action in ("acknowledge", "answer", "confirm", "reopen", "resolve")
        if action in actions
    }
    if posted is not None:
        forms[posted[0]] = posted[1]
    steps = _labelled(selectors.quality_timeline(report))
    return render(
        request,
        "governance/quality_detail.html",
        {
            "report": report,
            "steps": steps,
            "ledger_unreadable": ledger_unreadable(request.user, [s.ledger_index for s in steps]),
            "actions": actions,
            "forms": forms,
            "refused_form": posted[1] if posted else None,
        },
        status=400 if posted else 200,
    )


def quality_detail(request, pk):
    return _report_page(request, selectors.quality_report_for_user(request.user, pk))


def _report_step_input(form):
    data = form.cleaned_data
    if isinstance(form, ResolveForm):
        return {"reason": data["reason"], "release": data["release"]}
    return {"reason": data["reason"]}


@require_POST
def quality_action(request, pk, action):
    """One step; errors in what was typed show the page again, each at its field."""
    if action not in REPORT_STEPS:
        raise Http404(_("No such step."))
    report = selectors.quality_report_for_user(request.user, pk)
    step, done = REPORT_STEPS[action]
    form = _report_form(action, report, request.POST)
    offered = action in _report_actions(request.user, report)
    if offered and not form.is_valid():
        return _report_page(request, report, (action, _marked(action, form)))
    try:
        if not form.is_valid():  # a step not offered to this user: said in a message
            raise ValidationError([e for errors in form.errors.values() for e in errors])
        step(actor=request.user, report=report, **_report_step_input(form))
    except ValidationError as exc:
        if not offered:
            messages.error(request, error_message(exc))
            return redirect("governance:quality_detail", pk=report.pk)
        add_service_errors(form, exc, field="reason")
        return _report_page(request, report, (action, _marked(action, form)))
    except DomainError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, done)
    return redirect("governance:quality_detail", pk=report.pk)


def _marked(action, form):
    """A posted reason form shows "(required)" again where the service requires it."""
    if not isinstance(form, ResolveForm):
        form.fields["reason"].required = action in REASON_REQUIRED
    return form


# --- the demand list ------------------------------------------------------------------------
