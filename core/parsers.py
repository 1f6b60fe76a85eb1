"""The API's body parsers: DRF's, refusing a NUL character in any text they read.

PostgreSQL cannot store NUL (``\\u0000``) in text or ``jsonb``, and a lookup by code with one in
it (a department's ``SlugRelatedField``, a grant's record filter) fails in the database: a 500.
DRF's ``CharField`` refuses NUL itself, but related fields, JSON fields and dict fields do not,
so the parsers refuse it for all of them, with a 400 that says where it was.
"""

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


def _nul_at(value: Any, where: str = "") -> str | None:
    """The path (``a.b[2]``) of the first text with a NUL character in ``value``, or None."""
    if isinstance(value, str):
        return (where or "body") if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{where}.{key}" if where else str(key)
            if isinstance(key, str) and "\x00" in key:
                return name
            found = _nul_at(item, name)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_at(item, f"{where}[{index}]")
            if found:
                return found
    return None


def _refuse_nul(data: Any) -> None:
    if hasattr(data, "lists"):  # a QueryDict: every value of every key
        data = dict(data.lists())
    where = _nul_at(data)
    if where:
        raise ParseError(
            _("%(field)s contains a NUL character (\\u0000); no field takes one.")
            % {"field": where}
        )


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        _refuse_nul(data)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        _refuse_nul(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    """The fields of a multipart body; the files themselves are data and are not inspected."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        result = super().parse(stream, media_type, parser_context)
        _refuse_nul(result.data)
        return result
