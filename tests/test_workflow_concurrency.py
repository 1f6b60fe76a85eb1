"""Two decisions on one request at the same moment: the row lock lets exactly one through."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connections

from access_requests import services as rs
from access_requests.models import Request
from core.exceptions import IllegalTransition
from departments.models import Membership
from rights.models import Grant
from tests.conftest import make_user

DECISIONS = {
    "approve": lambda actor, request: rs.request_approve(actor=actor, request=request),
    "reject": lambda actor, request: rs.request_reject(
        actor=actor, request=request, reason="Purpose too broad."
    ),
}


def race(request_pk, moves):
    """Run each ``(decision, user_pk)`` in its own thread and DB connection, all released at
    once by a barrier; return what each ended with (the request, or the exception)."""
    barrier = threading.Barrier(len(moves))
    outcomes = [None] * len(moves)

    def decide(slot, decision, user_pk):
        try:
            actor = get_user_model().objects.get(pk=user_pk)
            request = Request.objects.get(pk=request_pk)
            barrier.wait(timeout=10)
            outcomes[slot] = DECISIONS[decision](actor, request)
        except Exception as exc:  # the outcome is what the test inspects
            outcomes[slot] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=decide, args=(slot, decision, user_pk))
        for slot, (decision, user_pk) in enumerate(moves)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a decision never finished"
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("decisions", [("approve", "reject"), ("approve", "approve")])
def test_two_concurrent_decisions_let_exactly_one_through(
    request_draft, requester, steward, reviewer, departments, decisions
):
    second = make_user("office2", departments["OFFICE"], Membership.Role.REVIEWER)
    rs.request_submit(actor=requester, request=request_draft)
    rs.request_endorse(actor=steward, request=request_draft)

    outcomes = race(request_draft.pk, [(decisions[0], reviewer.pk), (decisions[1], second.pk)])

    won = [o for o in outcomes if isinstance(o, Request)]
    lost = [o for o in outcomes if not isinstance(o, Request)]
    assert len(won) == 1, outcomes
    assert len(lost) == 1 and isinstance(lost[0], IllegalTransition), outcomes
    final = Request.objects.get(pk=request_draft.pk)
    assert final.state == won[0].state
    decided = [s for s in final.steps.values_list("action", flat=True) if s in DECISIONS]
    assert len(decided) == 1
    assert Grant.objects.filter(request=final).count() == (1 if final.state == "approved" else 0)
    assert Grant.objects.count() <= 1
