"""What every workflow page does with a step: run the one service call, say how it went, go on.

A refused step (``ValidationError``, or a ``DomainError`` such as ``IllegalTransition``) becomes
an error message on the next page and changes nothing; a step that went through gets ``done``.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from core.exceptions import DomainError
from core.forms import error_message

if TYPE_CHECKING:  # the stubs' name for a lazy translation
    from django.utils.functional import _StrPromise


def step_response(
    request: HttpRequest,
    step: Callable[[], object],
    *,
    done: "str | _StrPromise",
    then: HttpResponse,
) -> HttpResponse:
    """Call ``step`` (a service call with its input already parsed, or parsing it: a
    ValidationError while parsing is refused the same way) and answer with ``then``."""
    try:
        step()
    except (ValidationError, DomainError) as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, done)
    return then
