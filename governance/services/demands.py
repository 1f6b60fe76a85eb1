from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

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
from governance.models import Demand, DemandStep, DemandSupporter
from governance.services.quality import (
    _check_state,
    _mark_overdue,
    _office_reviewers,
    _require_reason,
    _text,
    _users,
)
from ledger.services import ledger_append, text_sha256
from notifications.services import notify
from workdays.deadlines import add_working_days

DEMAND_ANSWER_DAYS = 10  # working days for the likely owner to answer a routed demand


ITEMS_MAX = 50  # data items named in one demand


ITEM_MAX_LENGTH = 200


D = Demand.State


DEMAND_TRANSITIONS = {
    "route": ({D.SUBMITTED, D.ROUTED}, D.ROUTED),
    "answer": ({D.ROUTED}, D.ANSWERED),
    "decline": ({D.ROUTED}, D.DECLINED),
    "withdraw": ({D.SUBMITTED, D.ROUTED}, D.WITHDRAWN),
}


# Other departments may join a demand while it is still being worked on.
DEMAND_JOINABLE = {D.SUBMITTED, D.ROUTED}


DEMAND_TEXT_FIELDS = ("title", "description", "purpose", "legal_basis")


def _demand_locked(demand):
    return (
        Demand.objects.select_for_update(of=("self",))
        .select_related("requesting_department", "routed_to", "resource")
        .get(pk=demand.pk)
    )


def _supporter_departments(demand):
    return list(Department.objects.filter(demands_joined__demand=demand).order_by("code"))


def _demand_step(demand, action, from_state, to_state, actor, department, reason, **subject):
    step = DemandStep.objects.create(
        demand=demand,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        department=department,
        reason=reason,
    )
    if action == "file":
        hashes = {
            "description_sha256": text_sha256(demand.description),
            "purpose_sha256": text_sha256(demand.purpose),
        }
    else:
        hashes = {"reason_sha256": text_sha256(reason)} if reason else None
    entry = ledger_append(
        event=f"demand.{action}",
        actor=actor,
        departments=[
            demand.requesting_department,
            demand.routed_to,
            department,
            *_supporter_departments(demand),
        ],
        subject={"demand": demand.pk, "resource": demand.resource_id, **subject},
        hashes=hashes,
        detail={"from": from_state, "to": to_state},
    )
    step.ledger_index = entry.index
    step.save(update_fields=["ledger_index"])
    return step


def _demand_move(demand, action, actor, department, reason="", due_days=None):
    _check_state(demand, DEMAND_TRANSITIONS, action, _("demand"))
    from_state, to_state = demand.state, DEMAND_TRANSITIONS[action][1]
    demand.state = to_state
    demand.due_date = (
        add_working_days(timezone.localdate(), due_days) if due_days is not None else None
    )
    demand.overdue_since = None
    demand._history_user = actor
    demand._change_reason = f"{action}: {reason}"[:100] if reason else action
    demand.save()
    return _demand_step(demand, action, from_state, to_state, actor, department, reason)


def _demand_url(demand):
    return f"/governance/demands/{demand.pk}/"


def _tell_demand(users, demand, subject, body="", **extra):
    values = {"id": demand.pk, "title": demand.title, **extra}
    notify(
        recipients=users,
        subject=subject % values,
        body=body or subject % values,
        url=_demand_url(demand),
    )


def _demand_requesters(demand, with_supporters=False):
    ids = [demand.requesting_department_id]
    if with_supporters:
        ids += list(demand.supporters.values_list("department_id", flat=True))
    return _users(ids, [Membership.Role.REQUESTER])


def _search_text(title, description, items):
    return " ".join([title, description, *items]).lower()


def _clean_items(items):
    cleaned, errors = [], []
    for item in items or []:
        name = _text(item) if isinstance(item, str) else ""
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


@transaction.atomic
def demand_file(*, actor, department, data, items):
    """A demand by a requester of ``department`` for data the catalog lacks; the office's
    reviewers are told so they can route it to a likely owner."""
    if not is_requester_for(actor, department.pk):
        raise PermissionDenied(
            _("Only a requester of %(dept)s can file its demands.") % {"dept": department.code}
        )
    values = {field: _text(data.get(field)) for field in DEMAND_TEXT_FIELDS}
    errors = {}
    messages = {
        "title": _("Give the demand a short title."),
        "description": _("Describe the data you need."),
        "purpose": _("State the purpose the data would be used for."),
        "legal_basis": _("Cite the legal basis for using the data."),
    }
    for field, message in messages.items():
        if not values[field]:
            errors[field] = message
    if len(values["title"]) > Demand._meta.get_field("title").max_length:
        errors["title"] = _("Keep the title to 200 characters.")
    cleaned, item_errors = _clean_items(items)
    if item_errors:
        errors["items"] = item_errors
    if errors:
        raise ValidationError(errors)
    demand = Demand(
        requesting_department=department,
        requested_by=actor,
        items=cleaned,
        search_text=_search_text(values["title"], values["description"], cleaned),
        **values,
    )
    demand._history_user = actor
    demand._change_reason = "file"
    demand.save()
    _demand_step(demand, "file", D.SUBMITTED, D.SUBMITTED, actor, department, "")
    _tell_demand(
        _office_reviewers(),
        demand,
        _("Demand #%(id)d waits for routing: %(title)s"),
        _("%(dept)s needs data the catalog lacks: %(title)s. Route it to a likely owner.")
        % {"dept": department.code, "title": demand.title},
    )
    return demand


def _office_acting(actor, demand):
    if not can_route_demand(actor, demand):
        raise PermissionDenied(
            _("Only a reviewer of the data management office routes demands, never their own.")
        )
    ids = department_ids_with_role(actor, Membership.Role.REVIEWER) & office_department_ids()
    return Department.objects.filter(pk__in=ids).order_by("code").first()


@transaction.atomic
def demand_route(*, actor, demand, department, reason=""):
    """Submitted/routed → routed to ``department``, the likely owner, whose stewards have
    ``DEMAND_ANSWER_DAYS`` working days to answer; routing again moves it elsewhere."""
    demand = _demand_locked(demand)
    office = _office_acting(actor, demand)
    _check_state(demand, DEMAND_TRANSITIONS, "route", _("demand"))
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
    demand.routed_to = department
    _demand_move(demand, "route", actor, office, _text(reason), due_days=DEMAND_ANSWER_DAYS)
    _tell_demand(
        _users([department.pk], [Membership.Role.STEWARD]),
        demand,
        _("Demand #%(id)d is routed to your department: %(title)s"),
        _(
            "Answer with a resource in the catalog, or decline with reasons, within %(n)d working "
            "days."
        )
        % {"n": DEMAND_ANSWER_DAYS},
    )
    _tell_demand(
        _demand_requesters(demand),
        demand,
        _("Demand #%(id)d is routed to %(dept)s"),
        dept=department.code,
    )
    return demand


def _owner_for_demand(actor, demand):
    if not can_answer_demand(actor, demand):
        raise PermissionDenied(
            _("Only a data steward of the department the demand is routed to can answer it.")
        )
    return demand.routed_to


@transaction.atomic
def demand_answer(*, actor, demand, resource, reason=""):
    """Routed → answered with ``resource``, a published entry of the department the demand is
    routed to (new or existing); the filer and the departments that joined are told."""
    demand = _demand_locked(demand)
    department = _owner_for_demand(actor, demand)
    _check_state(demand, DEMAND_TRANSITIONS, "answer", _("demand"))
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
    _demand_move(demand, "answer", actor, department, demand.answer)
    _tell_demand(
        _demand_requesters(demand, with_supporters=True),
        demand,
        _("Demand #%(id)d is answered: %(title)s"),
        _("%(dept)s answers with %(res)s (%(ident)s). Request it from the catalog.")
        % {"dept": department.code, "res": resource.title, "ident": resource.identifier},
    )
    return demand


@transaction.atomic
def demand_decline(*, actor, demand, reason):
    """Routed → declined with reasons, by the department it is routed to."""
    reason = _require_reason(reason, _("declining the demand"))
    demand = _demand_locked(demand)
    department = _owner_for_demand(actor, demand)
    demand.answer = reason
    _demand_move(demand, "decline", actor, department, reason)
    _tell_demand(
        _demand_requesters(demand, with_supporters=True),
        demand,
        _("Demand #%(id)d was declined: %(title)s"),
        reason,
    )
    return demand


@transaction.atomic
def demand_withdraw(*, actor, demand, reason=""):
    """Submitted/routed → withdrawn, by a requester of the filing department."""
    demand = _demand_locked(demand)
    if not is_requester_for(actor, demand.requesting_department_id):
        raise PermissionDenied(
            _("Only a requester of %(dept)s, which filed the demand, can withdraw it.")
            % {"dept": demand.requesting_department.code}
        )
    routed_to = demand.routed_to_id
    _demand_move(demand, "withdraw", actor, demand.requesting_department, _text(reason))
    if routed_to:
        _tell_demand(
            _users([routed_to], [Membership.Role.STEWARD]),
            demand,
            _("Demand #%(id)d was withdrawn: %(title)s"),
        )
    return demand


@transaction.atomic
def demand_join(*, actor, demand, department, purpose=""):
    """``department`` joins an open demand instead of filing the same one twice; its requesters
    are told of the answer too. The demand's state does not change."""
    if not is_requester_for(actor, department.pk):
        raise PermissionDenied(
            _("Only a requester of %(dept)s can join demands for it.") % {"dept": department.code}
        )
    demand = _demand_locked(demand)
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
    supporter = DemandSupporter(
        demand=demand, department=department, joined_by=actor, purpose=_text(purpose)
    )
    supporter._history_user = actor
    supporter.save()
    # A history row on the demand too: who supports it is part of what it is.
    demand._history_user = actor
    demand._change_reason = f"join: {department.code}"
    demand.save(update_fields=["updated_at"])
    _demand_step(demand, "join", demand.state, demand.state, actor, department, supporter.purpose)
    _tell_demand(
        _demand_requesters(demand),
        demand,
        _("%(dept)s joined demand #%(id)d"),
        dept=department.code,
    )
    return supporter


def demands_mark_overdue(*, today=None):
    """Flag routed demands not answered by their due date; tell the likely owner's stewards and
    the office once per demand and deadline."""
    return _mark_overdue(
        Demand,
        {D.ROUTED},
        today=today or timezone.localdate(),
        recipients=lambda demand: (
            list(_users([demand.routed_to_id], [Membership.Role.STEWARD]))
            + list(_office_reviewers())
        ),
        subject=_("Demand #%(id)d is overdue (due %(due)s)"),
        url=_demand_url,
    )
