"""Dispute pages. Views parse input, call one service or selector, and render."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from access_requests.selectors import request_for_user
from core.exceptions import DomainError
from core.forms import ReasonForm, add_service_errors, error_message
from departments.models import Department
from departments.permissions import (
    acting_department_ids,
    can_act_as_dispute_party,
    can_decide_dispute,
    can_record_authority_decision,
)
from governance import selectors
from governance.forms import (
    DecisionForm,
    DisputeRaiseForm,
    FinalDecisionForm,
    SettleForm,
    StatementForm,
)
from governance.models import Dispute
from governance.services import decisions, disputes
from governance.services.subjects import disputed_quality_report
from rights.selectors import grant_for_user, grants_visible_to
from sharing.models import Delivery

PAGE_SIZE = 25
S = Dispute.State
K = Dispute.SubjectKind

STEP_LABELS = {
    "raise": gettext_lazy("Raised"),
    "statement": gettext_lazy("Statement"),
    "settle": gettext_lazy("Settled by agreement"),
    "escalate": gettext_lazy("Escalated to the management office"),
    "refer": gettext_lazy("Referred to the supervising authority"),
    "decide": gettext_lazy("Decided by the management office"),
    "record_final": gettext_lazy("Final decision of the supervising authority recorded"),
    "withdraw": gettext_lazy("Withdrawn"),
}
# action: (form class or None, service, message once done)
STEPS = {
    "statement": (StatementForm, disputes.dispute_statement, gettext_lazy("Statement added.")),
    "settle": (SettleForm, decisions.dispute_settle, gettext_lazy("The dispute is settled.")),
    "escalate": (None, disputes.dispute_escalate, gettext_lazy("The dispute is escalated.")),
    "decide": (DecisionForm, decisions.dispute_decide, gettext_lazy("The decision is recorded.")),
    "record_final": (
        FinalDecisionForm,
        decisions.dispute_record_final,
        gettext_lazy("The final decision is recorded."),
    ),
    "withdraw": (None, disputes.dispute_withdraw, gettext_lazy("The dispute is withdrawn.")),
}


def _paginated(request, queryset, template, **context):
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, template, {"page": page, **context})


def dispute_list(request):
    return _paginated(
        request, selectors.department_disputes(request.user), "governance/dispute_list.html"
    )


def dispute_queue(request):
    return _paginated(
        request, selectors.dispute_office_queue(request.user), "governance/dispute_queue.html"
    )


def _subject_from_query(request):
    """The disputed object named in the query string, if the user may see it (404 otherwise)."""
    user, query = request.user, request.GET
    for key in ("grant", "delivery", "request", "quality_report"):
        value = query.get(key, "")
        if value.isdigit():
            pk = int(value)
            break
    else:
        raise Http404(_("Open the grant, delivery, refusal or quality report you dispute first."))
    if key == "grant":
        return K.GRANT, {"grant": grant_for_user(user, pk)}
    if key == "delivery":
        visible = Delivery.objects.filter(grant__in=grants_visible_to(user).values("pk"))
        return K.DELIVERY, {"delivery": get_object_or_404(visible.select_related("grant"), pk=pk)}
    if key == "request":
        return K.REFUSAL, {"refusal": request_for_user(user, pk)}
    disputed_quality_report(pk)  # exists (or a 400 message); parties are checked later
    return K.QUALITY_REPORT, {"quality_report_id": pk}


def dispute_create(request):
    kind, subject = _subject_from_query(request)
    departments = list(
        Department.objects.filter(pk__in=acting_department_ids(request.user)).order_by("code")
    )
    form = DisputeRaiseForm(request.POST or None, departments=departments)
    if request.method == "POST" and form.is_valid():
        try:
            dispute = disputes.dispute_raise(
                actor=request.user,
                kind=kind,
                department=form.department_choice() if len(departments) > 1 else None,
                disputed=form.cleaned_data["disputed"],
                asked=form.cleaned_data["asked"],
                **subject,
            )
        except (ValidationError, DomainError) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The dispute is raised; the other department is told."))
            return redirect("disputes:dispute_detail", pk=dispute.pk)
    return render(
        request,
        "governance/dispute_form.html",
        {"form": form, "kind": kind, "kind_label": K(kind).label, "subject": subject},
        status=400 if request.method == "POST" else 200,
    )


def _available_actions(user, dispute):
    state = dispute.state
    possible = disputes.DISPUTES.allowed_actions(dispute)
    actions = set()
    if can_act_as_dispute_party(user, dispute):
        actions |= possible & {"statement", "settle"}
        if state in (S.NEGOTIATION, S.DECIDED):
            actions.add("escalate")
        if "withdraw" in possible and dispute.raised_by_department_id in acting_department_ids(
            user
        ):
            actions.add("withdraw")
    if "decide" in possible and can_decide_dispute(user, dispute):
        actions.add("decide")
    if "record_final" in possible and can_record_authority_decision(user, dispute):
        actions.add("record_final")
    return actions


def _form_for(action, dispute, data=None, files=None):
    form_class = STEPS[action][0]
    if form_class is None:
        return ReasonForm(data, required=action == "escalate", auto_id=f"id_{action}_%s")
    kwargs = {"auto_id": f"id_{action}_%s"}
    if form_class is not StatementForm:
        kwargs["dispute"] = dispute
    return form_class(data, files, **kwargs)


def _dispute_page(request, dispute, posted=None):
    """The dispute page; ``posted`` is a refused step's form, shown again with its errors."""
    steps = list(selectors.dispute_timeline(dispute))
    for step in steps:
        step.label = STEP_LABELS.get(step.action, step.action)
    actions = _available_actions(request.user, dispute)
    order = ["statement", "settle", "escalate", "withdraw", "decide", "record_final"]
    forms = {a: _form_for(a, dispute) for a in order if a in actions}
    if posted is not None:
        forms[posted[0]] = posted[1]
    return render(
        request,
        "governance/dispute_detail.html",
        {
            "dispute": dispute,
            "steps": steps,
            "decisions": list(selectors.dispute_decisions(dispute)),
            "forms": forms,
            "refused_form": posted[1] if posted else None,
            "escalation_target": _("the supervising authority")
            if dispute.state == S.DECIDED or disputes.office_is_party(dispute)
            else _("the data management office"),
        },
        status=400 if posted else 200,
    )


def dispute_detail(request, pk):
    return _dispute_page(request, selectors.dispute_for_user(request.user, pk))


def _step_input(action, form):
    data = form.cleaned_data
    if action == "statement":
        return {"text": data["text"], "evidence": data.get("evidence")}
    if action in ("escalate", "withdraw"):
        return {"reason": data["reason"]}
    return data


@require_POST
def dispute_action(request, pk, action):
    """One step. Errors in what was typed (the form's, then the service's, each all at once)
    show the page again with every error at its field; a refused step is a message."""
    if action not in STEPS:
        raise Http404(_("No such step."))
    dispute = selectors.dispute_for_user(request.user, pk)
    form = _form_for(action, dispute, request.POST, request.FILES)
    _form_class, step, done = STEPS[action]
    offered = action in _available_actions(request.user, dispute)
    if offered and not form.is_valid():
        return _dispute_page(request, dispute, (action, form))
    try:
        if not form.is_valid():  # a step not offered to this user: said in a message
            raise ValidationError(
                [
                    f"{form.fields[f].label if f in form.fields else ''}: {e}".lstrip(": ")
                    for f, errors in form.errors.items()
                    for e in errors
                ]
            )
        step(actor=request.user, dispute=dispute, **_step_input(action, form))
    except ValidationError as exc:
        if not offered:
            messages.error(request, error_message(exc))
            return redirect("disputes:dispute_detail", pk=dispute.pk)
        add_service_errors(form, exc)
        return _dispute_page(request, dispute, (action, form))
    except DomainError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, done)
    return redirect("disputes:dispute_detail", pk=dispute.pk)


def dispute_evidence(request, pk, step_pk):
    """An evidence file, for whoever may see the dispute."""
    dispute = selectors.dispute_for_user(request.user, pk)
    step = get_object_or_404(dispute.steps.exclude(evidence=""), pk=step_pk)
    name = step.evidence.name.rsplit("/", 1)[-1]
    return FileResponse(step.evidence.open("rb"), as_attachment=True, filename=name)
