"""The demand list: a department asks for data the catalog lacks, the office routes the demand to
a likely owner, which answers with a resource or declines; the filer may withdraw it and other
departments may join it instead of filing the same demand twice.

Every transition goes through ``DEMANDS`` (workflow/engine.py): lock the row, check who may act
(PermissionDenied, API 403) and the transition table (IllegalTransition, API 409), change the row
with history, write a timeline step and exactly one ledger entry in the same transaction, and
notify after commit. A refused step changes nothing. The department a demand is routed to has
``DEMAND_ANSWER_DAYS`` working days to answer.
"""

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from catalog.models import Resource
from core.exceptions import IllegalTransition
from departments.models import Department, Membership
from departments.permissions import (
    can_answer_demand,
    can_route_demand,
    department_ids_with_role,
    is_requester_for,
    office_department_ids,
)
from departments.selectors import members_with_roles, office_reviewers
from governance.models import Demand, DemandStep, DemandSupporter
from ledger.models import LedgerEntry
from ledger.services import text_sha256
from notifications.services import Localized, Text, notify
from workdays.deadlines import add_working_days
from workflow.engine import Workflow, overdue_mark, require_reason

DEMAND_ANSWER_DAYS = 10  # working days for the likely owner to answer a routed demand
ITEMS_MAX = 50  # data items named in one demand
ITEM_MAX_LENGTH = 200
TITLE_MAX_LENGTH = Demand._meta.get_field("title").max_length or 200  # a CharField has one


D = Demand.State
# action: (states it may start from, state it leads to)
DEMAND_TRANSITIONS = {
    "route": ({D.SUBMITTED, D.ROUTED}, D.ROUTED),
    "answer": ({D.ROUTED}, D.ANSWERED),
    "decline": ({D.ROUTED}, D.DECLINED),
    "withdraw": ({D.SUBMITTED, D.ROUTED}, D.WITHDRAWN),
}
# Other departments may join a demand while it is still being worked on. Joining is a timeline
# step, not a transition: the demand's state does not change.
DEMAND_JOINABLE = {D.SUBMITTED, D.ROUTED}
DEMAND_ACTION_PAST = {
    "route": gettext_lazy("routed"),
    "answer": gettext_lazy("answered"),
    "decline": gettext_lazy("declined"),
    "withdraw": gettext_lazy("withdrawn"),
}
DEMANDS = Workflow(
    model=Demand,
    transitions=DEMAND_TRANSITIONS,
    noun=gettext_lazy("demand"),
    past=DEMAND_ACTION_PAST,
    step_model=DemandStep,
    step_link="demand",
)


DEMAND_TEXT_FIELDS = ("title", "description", "purpose", "legal_basis")


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


# --- the engine's steps ---------------------------------------------------------------------


def _locked(demand: Demand) -> Demand:
    locked: Demand = DEMANDS.lock(
        demand.pk, related=("requesting_department", "routed_to", "resource")
    )
    return locked


def _supporter_departments(demand: Demand) -> list[Department]:
    return list(Department.objects.filter(demands_joined__demand=demand).order_by("code"))


def _record(demand: Demand, step: DemandStep) -> LedgerEntry:
    """The step's ledger entry: ids, the departments involved (those that joined too) and hashes
    (of the texts when filed, of the reason otherwise), never free text."""
    hashes: dict[str, str] | None
    if step.action == "file":
        hashes = {
            "description_sha256": text_sha256(demand.description),
            "purpose_sha256": text_sha256(demand.purpose),
        }
    else:
        hashes = {"reason_sha256": text_sha256(step.reason)} if step.reason else None
    return DEMANDS.record(
        step,
        event=f"demand.{step.action}",
        departments=[
            demand.requesting_department,
            demand.routed_to,
            step.department,
            *_supporter_departments(demand),
        ],
        subject={"demand": demand.pk, "resource": demand.resource_id},
        hashes=hashes,
        detail={"from": step.from_state, "to": step.to_state},
    )


def _move(
    demand: Demand,
    action: str,
    actor: Any,
    department: Department | None,
    reason: str = "",
    due_days: int | None = None,
) -> DemandStep:
    """One step through the engine and its ledger entry; routing starts the answer deadline."""
    demand.due_date = (
        add_working_days(timezone.localdate(), due_days) if due_days is not None else None
    )
    demand.overdue_since = None
    step: DemandStep = DEMANDS.move(
        demand, action, actor=actor, department=department, reason=reason
    )
    _record(demand, step)
    return step


# --- who is told ----------------------------------------------------------------------------


def _tell(
    users: Iterable[Any], demand: Demand, subject: str, body: Text = "", **extra: str
) -> None:
    """Notify ``users``; ``subject`` is a msgid (``gettext_noop``) naming ``id``, ``title`` and
    ``extra``, worded in each recipient's language; a plain-text body (a reason) goes as written."""
    values = {"id": demand.pk, "title": demand.title, **extra}
    notify(
        recipients=users,
        subject=Localized(subject, values),
        body=body or Localized(subject, values),
        url=demand.get_absolute_url(),
    )


def _stewards(department_id: int) -> QuerySet[Any]:
    return members_with_roles([department_id], [Membership.Role.STEWARD])


def _requesters(demand: Demand, with_supporters: bool = False) -> QuerySet[Any]:
    ids = [demand.requesting_department_id]
    if with_supporters:
        ids += list(demand.supporters.values_list("department_id", flat=True))
    return members_with_roles(ids, [Membership.Role.REQUESTER])


# --- filing ---------------------------------------------------------------------------------


def _search_text(title: str, description: str, items: Iterable[str]) -> str:
    return " ".join([title, description, *items]).lower()


def _clean_items(items: Iterable[Any] | None) -> tuple[list[str], list[str]]:
    cleaned: list[str] = []
    errors: list[str] = []
    for item in items or []:
        name = _text(item)
        if not name:
            errors.append(_("Name each data item you need (one per line)."))
        elif len(name) > ITEM_MAX_LENGTH:
            errors.append(
                _("“%(name)s…” is longer than %(n)d characters.")
                % {"name": name[:40], "n": ITEM_MAX_LENGTH}
            )
        elif name not in cleaned:
            cleaned.append(name)
    if not cleaned and not errors:
        errors.append(_("Name at least one data item you need."))
    if len(cleaned) > ITEMS_MAX:
        errors.append(_("Name at most %(n)d data items.") % {"n": ITEMS_MAX})
    return cleaned, errors


def _check_demand(values: Mapping[str, str], items: Iterable[Any] | None) -> list[str]:
    """The demand's data items, cleaned, or a ValidationError naming every missing field."""
    errors: dict[str, str | list[str]] = {}
    messages = {
        "title": _("Give the demand a short title."),
        "description": _("Describe the data you need."),
        "purpose": _("State the purpose the data would be used for."),
        "legal_basis": _("Cite the legal basis for using the data."),
    }
    for field, message in messages.items():
        if not values[field]:
            errors[field] = message
    if len(values["title"]) > TITLE_MAX_LENGTH:
        errors["title"] = _("Keep the title to 200 characters.")
    cleaned, item_errors = _clean_items(items)
    if item_errors:
        errors["items"] = item_errors
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def demand_file(
    *, actor: Any, department: Department, data: Mapping[str, Any], items: Iterable[Any] | None
) -> Demand:
    """A demand by a requester of ``department`` for data the catalog lacks; the office's
    reviewers are told so they can route it to a likely owner."""
    if not is_requester_for(actor, department.pk):
        raise PermissionDenied(
            _("Only a requester of %(dept)s can file its demands.") % {"dept": department.code}
        )
    values = {field: _text(data.get(field)) for field in DEMAND_TEXT_FIELDS}
    cleaned = _check_demand(values, items)
    demand = Demand(
        requesting_department=department,
        requested_by=actor,
        items=cleaned,
        search_text=_search_text(values["title"], values["description"], cleaned),
        title=values["title"],
        description=values["description"],
        purpose=values["purpose"],
        legal_basis=values["legal_basis"],
    )
    demand._history_user = actor  # type: ignore[attr-defined]
    demand._change_reason = "file"  # type: ignore[attr-defined]
    demand.save()
    step = DEMANDS.step(
        demand, "file", D.SUBMITTED, D.SUBMITTED, actor=actor, department=department
    )
    _record(demand, step)
    _tell(
        office_reviewers(),
        demand,
        gettext_noop("Demand #%(id)d waits for routing: %(title)s"),
        Localized(
            gettext_noop(
                "%(dept)s needs data the catalog lacks: %(title)s. Route it to a likely owner."
            ),
            {"dept": department.code, "title": demand.title},
        ),
    )
    return demand


# --- routing, answering, declining, withdrawing ---------------------------------------------


def _office_acting(actor: Any, demand: Demand) -> Department | None:
    if not can_route_demand(actor, demand):
        raise PermissionDenied(
            _("Only a reviewer of the data management office routes demands, never their own.")
        )
    ids = department_ids_with_role(actor, Membership.Role.REVIEWER) & office_department_ids()
    return Department.objects.filter(pk__in=ids).order_by("code").first()


def _check_route(demand: Demand, department: Department | None) -> Department:
    if department is None or not department.is_active:
        raise ValidationError({"department": _("Choose an active department to route to.")})
    if department.pk == demand.requesting_department_id:
        raise ValidationError(
            {"department": _("The demand cannot be routed to the department that filed it.")}
        )
    if demand.state == D.ROUTED and demand.routed_to_id == department.pk:
        raise ValidationError(
            {"department": _("The demand is already routed to %(d)s.") % {"d": department.code}}
        )
    return department


@transaction.atomic
def demand_route(
    *, actor: Any, demand: Demand, department: Department | None, reason: str | None = ""
) -> Demand:
    """Submitted/routed → routed to ``department``, the likely owner, whose stewards have
    ``DEMAND_ANSWER_DAYS`` working days to answer; routing again moves it elsewhere."""
    demand = _locked(demand)
    office = _office_acting(actor, demand)
    DEMANDS.check(demand, "route")
    department = _check_route(demand, department)
    demand.routed_to = department
    _move(demand, "route", actor, office, _text(reason), due_days=DEMAND_ANSWER_DAYS)
    _tell(
        _stewards(department.pk),
        demand,
        gettext_noop("Demand #%(id)d is routed to your department: %(title)s"),
        Localized(
            gettext_noop(
                "Answer with a resource in the catalog, or decline with reasons, within %(n)d "
                "working days."
            ),
            {"n": DEMAND_ANSWER_DAYS},
        ),
    )
    _tell(
        _requesters(demand),
        demand,
        gettext_noop("Demand #%(id)d is routed to %(dept)s"),
        dept=department.code,
    )
    return demand


def _owner_acting(actor: Any, demand: Demand) -> Department:
    if not can_answer_demand(actor, demand) or demand.routed_to is None:
        raise PermissionDenied(
            _("Only a data steward of the department the demand is routed to can answer it.")
        )
    return demand.routed_to


@transaction.atomic
def demand_answer(
    *, actor: Any, demand: Demand, resource: Resource | None, reason: str | None = ""
) -> Demand:
    """Routed → answered with ``resource``, a published entry of the department the demand is
    routed to (new or existing); the filer and the departments that joined are told."""
    demand = _locked(demand)
    department = _owner_acting(actor, demand)
    DEMANDS.check(demand, "answer")
    if resource is None or resource.owner_department_id != department.pk:
        raise ValidationError(
            {
                "resource": _("Answer with a resource your department %(d)s owns.")
                % {"d": department.code}
            }
        )
    if resource.status != Resource.Status.PUBLISHED:
        raise ValidationError(
            {
                "resource": _("Publish %(t)s first: the requester must be able to see it.")
                % {"t": resource.title}
            }
        )
    demand.resource = resource
    demand.answer = _text(reason)
    _move(demand, "answer", actor, department, demand.answer)
    _tell(
        _requesters(demand, with_supporters=True),
        demand,
        gettext_noop("Demand #%(id)d is answered: %(title)s"),
        Localized(
            gettext_noop("%(dept)s answers with %(res)s (%(ident)s). Request it from the catalog."),
            {"dept": department.code, "res": resource.title, "ident": resource.identifier},
        ),
    )
    return demand


@transaction.atomic
def demand_decline(*, actor: Any, demand: Demand, reason: str | None) -> Demand:
    """Routed → declined with reasons, by the department it is routed to."""
    reason = require_reason(reason, _("declining the demand"))
    demand = _locked(demand)
    department = _owner_acting(actor, demand)
    demand.answer = reason
    _move(demand, "decline", actor, department, reason)
    _tell(
        _requesters(demand, with_supporters=True),
        demand,
        gettext_noop("Demand #%(id)d was declined: %(title)s"),
        reason,
    )
    return demand


@transaction.atomic
def demand_withdraw(*, actor: Any, demand: Demand, reason: str | None = "") -> Demand:
    """Submitted/routed → withdrawn, by a requester of the filing department."""
    demand = _locked(demand)
    if not is_requester_for(actor, demand.requesting_department_id):
        raise PermissionDenied(
            _("Only a requester of %(dept)s, which filed the demand, can withdraw it.")
            % {"dept": demand.requesting_department.code}
        )
    routed_to = demand.routed_to_id
    _move(demand, "withdraw", actor, demand.requesting_department, _text(reason))
    if routed_to:
        _tell(_stewards(routed_to), demand, gettext_noop("Demand #%(id)d was withdrawn: %(title)s"))
    return demand


# --- joining --------------------------------------------------------------------------------


def _check_join(demand: Demand, department: Department) -> None:
    if department.pk == demand.requesting_department_id:
        raise ValidationError({"department": _("Your department filed this demand.")})
    if department.pk == demand.routed_to_id:
        raise ValidationError(
            {"department": _("The demand is routed to your department: answer it instead.")}
        )
    if demand.supporters.filter(department=department).exists():
        raise ValidationError(
            {"department": _("%(d)s has already joined this demand.") % {"d": department.code}}
        )
    if demand.state not in DEMAND_JOINABLE:
        raise IllegalTransition(
            _("A demand that is %(state)s cannot be joined; file a new one if you still need it.")
            % {"state": demand.get_state_display().lower()}
        )


@transaction.atomic
def demand_join(
    *, actor: Any, demand: Demand, department: Department, purpose: str | None = ""
) -> DemandSupporter:
    """``department`` joins an open demand instead of filing the same one twice; its requesters
    are told of the answer too. The demand's state does not change."""
    if not is_requester_for(actor, department.pk):
        raise PermissionDenied(
            _("Only a requester of %(dept)s can join demands for it.") % {"dept": department.code}
        )
    demand = _locked(demand)
    _check_join(demand, department)
    supporter = DemandSupporter(
        demand=demand, department=department, joined_by=actor, purpose=_text(purpose)
    )
    supporter._history_user = actor  # type: ignore[attr-defined]
    supporter.save()
    # A history row on the demand too: who supports it is part of what it is.
    demand._history_user = actor  # type: ignore[attr-defined]
    demand._change_reason = f"join: {department.code}"  # type: ignore[attr-defined]
    demand.save(update_fields=["updated_at"])
    step = DEMANDS.step(
        demand,
        "join",
        demand.state,
        demand.state,
        actor=actor,
        department=department,
        reason=supporter.purpose,
    )
    _record(demand, step)
    _tell(
        _requesters(demand),
        demand,
        gettext_noop("%(dept)s joined demand #%(id)d"),
        dept=department.code,
    )
    return supporter


def demands_mark_overdue(*, today: datetime.date | None = None) -> int:
    """Flag routed demands not answered by their due date; tell the likely owner's stewards and
    the office once per demand and deadline."""
    late = Demand.objects.filter(
        state=D.ROUTED, due_date__lt=today or timezone.localdate(), overdue_since__isnull=True
    )
    return overdue_mark(
        late,
        recipients=lambda demand: [*_stewards(demand.routed_to_id), *office_reviewers()],
        subject=lambda demand: Localized(
            gettext_noop("Demand #%(id)d is overdue (due %(due)s)"),
            {"id": demand.pk, "due": demand.due_date},
        ),
        url=lambda demand: demand.get_absolute_url(),
        key=lambda demand: f"demand:{demand.pk}:overdue:{demand.due_date}",
    )
