from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit.selectors import ledger_unreadable
from core.exceptions import DomainError
from core.forms import add_service_errors
from core.views import step_response
from departments.models import Membership
from departments.permissions import (
    can_answer_demand,
    can_route_demand,
    department_ids_with_role,
    is_requester_for,
)
from governance import selectors
from governance.forms import (
    AnswerDemandForm,
    DemandForm,
    JoinForm,
    ReasonForm,
    RouteForm,
)
from governance.models import Demand
from governance.services import demands as demand_services
from governance.views.quality import _departments, _labelled, _page, _possible, _query_without_page

DEMAND_STEPS = {
    "route": (demand_services.demand_route, gettext_lazy("The demand is routed.")),
    "answer": (demand_services.demand_answer, gettext_lazy("The demand is answered.")),
    "decline": (demand_services.demand_decline, gettext_lazy("The demand is declined.")),
    "withdraw": (demand_services.demand_withdraw, gettext_lazy("The demand is withdrawn.")),
    "join": (demand_services.demand_join, gettext_lazy("Your department joined the demand.")),
}


def _requester_departments(user):
    return _departments(department_ids_with_role(user, Membership.Role.REQUESTER))


def demand_list(request):
    text = request.GET.get("q", "").strip()
    state = request.GET.get("state", "")
    if state not in Demand.State.values:
        state = ""
    queryset = selectors.demand_list(request.user, text=text, state=state or None)
    return render(
        request,
        "governance/demand_list.html",
        {
            "page": _page(request, queryset),
            "query": _query_without_page(request),
            "q": text,
            "state": state,
            "states": Demand.State.choices,
            "can_file": bool(_requester_departments(request.user)),
        },
    )


def demand_create(request):
    departments = _requester_departments(request.user)
    if not departments:
        raise PermissionDenied(_("Only a department's requesters can file demands."))
    form = DemandForm(request.POST or None, departments=departments)
    if request.method == "POST" and form.is_valid():
        try:
            demand = demand_services.demand_file(
                actor=request.user,
                department=form.department_choice(),
                data=form.service_data(),
                items=form.item_list(),
            )
        except (ValidationError, DomainError) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("Demand filed; the office will route it to a likely owner.")
            )
            return redirect("governance:demand_detail", pk=demand.pk)
    # Similar demands for what is being typed (a search, or the draft just posted).
    text = request.GET.get("q", "") or " ".join(
        request.POST.get(field, "") for field in ("title", "items")
    )
    return render(
        request,
        "governance/demand_form.html",
        {
            "form": form,
            "q": request.GET.get("q", ""),
            "similar": selectors.similar_demands(request.user, text),
        },
        status=400 if request.method == "POST" else 200,
    )


def _joinable_departments(user, demand):
    taken = {demand.requesting_department_id, demand.routed_to_id}
    taken |= {supporter.department_id for supporter in demand.supporters.all()}
    return [d for d in _requester_departments(user) if d.pk not in taken]


def _demand_actions(user, demand, joinable):
    possible = _possible(demand_services.DEMAND_TRANSITIONS, demand.state)
    actions = set()
    if can_route_demand(user, demand):
        actions |= possible & {"route"}
    if can_answer_demand(user, demand):
        actions |= possible & {"answer", "decline"}
    if is_requester_for(user, demand.requesting_department_id):
        actions |= possible & {"withdraw"}
    if joinable and demand.state in demand_services.DEMAND_JOINABLE:
        actions.add("join")
    return actions


def demand_detail(request, pk):
    demand = selectors.demand_for_user(request.user, pk)
    joinable = _joinable_departments(request.user, demand)
    actions = _demand_actions(request.user, demand, joinable)
    forms = {}
    if "route" in actions:
        forms["route"] = RouteForm(demand=demand, auto_id="id_route_%s")
    if "answer" in actions:
        forms["answer"] = AnswerDemandForm(demand=demand, auto_id="id_answer_%s")
    if "decline" in actions:
        forms["decline"] = ReasonForm(auto_id="id_decline_%s")
    if "withdraw" in actions:
        forms["withdraw"] = ReasonForm(required=False, auto_id="id_withdraw_%s")
    if "join" in actions:
        forms["join"] = JoinForm(departments=joinable, auto_id="id_join_%s")
    similar = [d for d in selectors.similar_demands(request.user, demand.title) if d.pk != pk]
    steps = _labelled(selectors.demand_timeline(demand))
    return render(
        request,
        "governance/demand_detail.html",
        {
            "demand": demand,
            "supporters": list(demand.supporters.all()),
            "steps": steps,
            "ledger_unreadable": ledger_unreadable(request.user, [s.ledger_index for s in steps]),
            "actions": actions,
            "forms": forms,
            "similar": similar,
        },
    )


def _demand_step_input(action, post, demand, user):
    forms = {
        "route": lambda: RouteForm(post, demand=demand),
        "answer": lambda: AnswerDemandForm(post, demand=demand),
        # With nothing left to join for, the service says why (already joined, or filed it).
        "join": lambda: JoinForm(
            post,
            departments=_joinable_departments(user, demand) or _requester_departments(user),
        ),
    }
    form = forms.get(action, lambda: ReasonForm(post, required=False))()
    if not form.is_valid():
        raise ValidationError([e for errors in form.errors.values() for e in errors])
    data = dict(form.cleaned_data)
    if action == "join":
        department = form.department_choice()
        if department is None:
            raise PermissionDenied(_("None of your departments can join this demand."))
        return {"department": department, "purpose": data["purpose"]}
    return data


@require_POST
def demand_action(request, pk, action):
    if action not in DEMAND_STEPS:
        raise Http404(_("No such step."))
    demand = selectors.demand_for_user(request.user, pk)
    step, done = DEMAND_STEPS[action]
    return step_response(
        request,
        lambda: step(
            actor=request.user,
            demand=demand,
            **_demand_step_input(action, request.POST, demand, request.user),
        ),
        done=done,
        then=redirect("governance:demand_detail", pk=demand.pk),
    )
