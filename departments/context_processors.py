from collections.abc import Callable

from django.http import HttpRequest

from departments.permissions import can_open_audit_search, has_review_queue


def navigation(request: HttpRequest) -> dict[str, Callable[[], bool]]:
    """Which role-bound links the navigation shows: the same rules as the pages they open, so
    no link leads to a refusal. Callables, so a page without the navigation pays nothing."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_review_queue": lambda: has_review_queue(user),
        "nav_audit": lambda: can_open_audit_search(user),
    }
