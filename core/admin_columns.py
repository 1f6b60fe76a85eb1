"""Short list columns for admin changelists, so a list fits a 1280 px screen (#15.8)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib import admin

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise  # stub-only: str or a lazy string


def code_column(path: str, description: _StrOrPromise) -> Callable[[Any], str]:
    """A column showing the value at ``path`` (``"resource__identifier"``, a department's
    ``code``) instead of the related row's long name; sorted by it. Empty shows as a dash."""

    def column(obj: Any) -> str:
        value = obj
        for part in path.split("__"):
            value = getattr(value, part, None)
            if value is None:
                return "—"
        return str(value)

    column.__name__ = path
    return admin.display(description=description, ordering=path)(column)
