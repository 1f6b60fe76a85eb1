from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise  # stub-only: str or a lazy string

# The text areas of statements and reasons: a few lines high, the page decides the width.
TEXTAREA = {"rows": 4}


def add_service_errors(form: forms.BaseForm, exc: Exception, field: str | None = None) -> None:
    """Show an error raised by a service on the form: per field where the form has the field."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for name, messages in exc.message_dict.items():
            target = name if name in form.fields else field
            for message in messages:
                form.add_error(target, message)
        return
    messages = (
        exc.messages
        if isinstance(exc, ValidationError)
        else [str(getattr(exc, "message", None) or exc)]
    )
    for message in messages:
        form.add_error(field, message)


def error_message(exc: Exception) -> str:
    """One line for a refused service call (ValidationError, PermissionDenied, DomainError)."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(getattr(exc, "message", None) or exc)


class ReasonForm(forms.Form):
    """The reason that goes with a workflow step; the service decides whether it is required."""

    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )

    def __init__(
        self, *args: Any, required: bool = True, label: _StrOrPromise | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required
        if label:
            self.fields["reason"].label = label
