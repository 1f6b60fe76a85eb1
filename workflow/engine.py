"""The one workflow engine: every state machine of the portal moves through it.

A machine is declared beside its model's services with its transition table
(``{action: (states it may start from, state it leads to)}``; a target of ``None`` keeps the
state, for steps such as a statement). A service function then, inside its transaction:

1. re-reads the row with :meth:`Workflow.lock` (``SELECT … FOR UPDATE`` on the row alone);
2. checks who may act (the rules in ``departments.permissions`` and the apps' permission
   modules; a refusal is ``PermissionDenied``, API 403);
3. moves with :meth:`Workflow.move`, which checks the table (a refusal is ``IllegalTransition``:
   a message on the web, 409 in the API, and nothing changed), changes the row with its history
   user and reason, and writes the timeline step;
4. records the step's ledger entry with :meth:`Workflow.record`;
5. tells people through ``notifications.services.notify``, whose emails go out on commit.

``overdue_mark`` is the one way a periodic job flags rows past their due date.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from core.exceptions import IllegalTransition
from ledger.models import LedgerEntry
from ledger.services import ledger_append
from notifications.services import Text, notify

Transitions = Mapping[str, tuple[Iterable[str], str | None]]
_STEP_ACTOR: Any = object()  # record(): the step's own actor unless another is given
# Every machine by the snake-case name of its model ("quality_report"), which is also the
# prefix of its ledger events: pages below the apps that declare them (audit) find the words
# of a recorded state here without importing those apps.
_MACHINES: dict[str, Workflow] = {}


@dataclass
class Workflow:
    """One state machine: its model, transition table, words for refusals, and timeline.

    ``refusal`` is the message of a refused step, with ``%(noun)s``, ``%(state)s`` (the state's
    label in lower case), ``%(status)s`` (the label as shown) and ``%(action)s`` (``past``
    of the action); ``refusals`` overrides it for single actions.
    """

    model: type[models.Model]
    transitions: Transitions
    noun: str | Promise
    past: Mapping[str, str | Promise]
    state_field: str = "state"
    step_model: type[models.Model] | None = None
    step_link: str = ""
    refusal: str | Promise = ""
    refusals: Mapping[str, str | Promise] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _MACHINES[re.sub(r"(?<!^)(?=[A-Z])", "_", self.model.__name__).lower()] = self

    def state_label(self, value: str) -> str:
        """A state of this machine in words (the value itself if it is not one)."""
        state = self.model._meta.get_field(self.state_field)
        choices = dict(getattr(state, "flatchoices", ()))
        return str(choices.get(value, value))

    def sources(self, action: str) -> frozenset[str]:
        return frozenset(self.transitions[action][0])

    def target(self, action: str, current: str) -> str:
        return self.transitions[action][1] or current

    def state_of(self, obj: models.Model) -> str:
        return str(getattr(obj, self.state_field))

    def allows(self, obj: models.Model, action: str) -> bool:
        return self.state_of(obj) in self.sources(action)

    def allowed_actions(self, obj: models.Model) -> set[str]:
        """The actions the table allows from the object's state (who may act is separate)."""
        return {action for action in self.transitions if self.allows(obj, action)}

    def check(self, obj: models.Model, action: str) -> None:
        """Raise ``IllegalTransition`` unless the table allows ``action`` from the state."""
        if self.allows(obj, action):
            return
        label = str(getattr(obj, f"get_{self.state_field}_display")())
        template = (
            self.refusals.get(action)
            or self.refusal
            or _("A %(noun)s that is %(state)s cannot be %(action)s.")
        )
        raise IllegalTransition(
            str(template)
            % {
                "noun": self.noun,
                "state": label.lower(),
                "status": label,
                "action": self.past.get(action, action),
            }
        )

    def lock(self, pk: int, *, related: Iterable[str] = ()) -> Any:
        """The row, re-read and locked for the rest of the transaction (only its own row: an
        outer join in ``related`` is not lockable on PostgreSQL)."""
        return (
            self.model._default_manager.select_for_update(of=("self",))
            .select_related(*related)
            .get(pk=pk)
        )

    def move(
        self,
        obj: models.Model,
        action: str,
        *,
        actor: Any,
        department: Any = None,
        reason: str = "",
        change_reason: str | None = None,
        **step_fields: Any,
    ) -> Any:
        """Check the table, change the state (with history) and write the timeline step.

        Returns the step row, or ``(from_state, to_state)`` for a machine without a timeline.
        Fields the service set on ``obj`` before the call are saved with the state.
        """
        self.check(obj, action)
        from_state = self.state_of(obj)
        to_state = self.target(action, from_state)
        setattr(obj, self.state_field, to_state)
        obj._history_user = actor  # type: ignore[attr-defined]
        if change_reason is None:
            change_reason = f"{action}: {reason}"[:100] if reason else action
        obj._change_reason = change_reason  # type: ignore[attr-defined]
        obj.save()
        if self.step_model is None:
            return from_state, to_state
        return self.step(
            obj,
            action,
            from_state,
            to_state,
            actor=actor,
            department=department,
            reason=reason,
            **step_fields,
        )

    def step(
        self,
        obj: models.Model,
        action: str,
        from_state: str,
        to_state: str,
        *,
        actor: Any,
        department: Any = None,
        reason: str = "",
        **fields: Any,
    ) -> Any:
        """A timeline step without a state change check (creation, or a step of two parts)."""
        assert self.step_model is not None, f"{self.model.__name__} has no timeline"
        return self.step_model._default_manager.create(
            **{self.step_link: obj},
            action=action,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            department=department,
            reason=reason,
            **fields,
        )

    def record(
        self,
        step: Any,
        *,
        event: str,
        departments: Iterable[Any],
        subject: Mapping[str, Any],
        hashes: Mapping[str, str] | None = None,
        detail: Mapping[str, Any] | None = None,
        actor: Any = _STEP_ACTOR,
    ) -> LedgerEntry:
        """The step's one ledger entry (ids, department codes, hashes, never free text),
        linked from the step (``step`` may be None for a machine without a timeline)."""
        entry = ledger_append(
            event=event,
            actor=step.actor if actor is _STEP_ACTOR else actor,
            departments=list(departments),
            subject=dict(subject),
            hashes=dict(hashes) if hashes else None,
            detail=dict(detail) if detail is not None else None,
        )
        if step is not None and step.pk is not None:
            type(step)._default_manager.filter(pk=step.pk).update(ledger_index=entry.index)
            step.ledger_index = entry.index
        return entry


def machine_named(name: str) -> Workflow | None:
    """The machine of the model named ``name`` in snake case (a ledger event's prefix)."""
    return _MACHINES.get(name)


def require_reason(reason: str | None, what: str | Promise) -> str:
    """The reason, stripped, or a ValidationError on ``reason`` saying what it is for."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise ValidationError({"reason": _("Give the reason for %(what)s.") % {"what": what}})
    return text


def overdue_mark(
    queryset: models.QuerySet[Any],
    *,
    recipients: Callable[[Any], Iterable[Any]],
    subject: Callable[[Any], Text],
    body: Callable[[Any], Text] | None = None,
    url: Callable[[Any], str],
    key: Callable[[Any], str],
    same: Iterable[str] = ("state", "due_date"),
) -> int:
    """Flag each row of ``queryset`` (rows past their due date, not yet flagged) once.

    The flag is a conditional UPDATE (the row must still have the same ``same`` fields and no
    ``overdue_since``), so concurrent runs flag and notify a row once; ``key(row)`` makes the
    notification itself idempotent too. Returns how many rows were flagged.
    """
    model = queryset.model
    flagged = 0
    for row in queryset.order_by("pk"):
        with transaction.atomic():
            unchanged = {name: getattr(row, name) for name in same}
            updated = model._default_manager.filter(
                pk=row.pk, overdue_since__isnull=True, **unchanged
            ).update(overdue_since=timezone.now())
            if not updated:
                continue
            text = subject(row)
            notify(
                recipients=recipients(row),
                subject=text,
                body=body(row) if body else text,
                url=url(row),
                key=key(row),
            )
            flagged += 1
    return flagged
