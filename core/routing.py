"""The API's routes: ids that always fit the database, and a JSON 404 for everything else.

Apart from core/api.py on purpose (see core/viewsets.py): the settings name core.api, and
importing views or drf-spectacular from it would be a circular import.
"""

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from core.api import MAX_ID_DIGITS

# Ids are positive database keys. 18 digits stay below 2**63, so no id in a URL can overflow a
# PostgreSQL bigint (a DataError, a 500); anything else matches no route at all.
ID_PATTERN = rf"[0-9]{{1,{MAX_ID_DIGITS}}}"


class IdRouter(DefaultRouter):
    """The API's router: every ``{id}`` in a route is a whole number that fits the database.

    A malformed id ("null,null", "-1", "abc", 2**63) then matches no route, and
    :func:`api_not_found` answers it with a JSON 404 before any view reads it.
    """

    def get_lookup_regex(self, viewset: Any, lookup_prefix: str = "") -> str:
        lookup_field = getattr(viewset, "lookup_field", "pk")
        lookup_url_kwarg = getattr(viewset, "lookup_url_kwarg", None) or lookup_field
        return f"(?P<{lookup_prefix}{lookup_url_kwarg}>{ID_PATTERN})"


class IdConverter:
    """``<id:name>`` in a URL pattern: the same whole numbers as the router's ``{id}``."""

    regex = ID_PATTERN

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@authentication_classes([])
@permission_classes([])
def api_not_found(request: Request, *args: Any, **kwargs: Any) -> Response:
    """The last API route: a path under the API that names no operation, or a malformed id."""
    raise NotFound(_("There is no such API operation or object. Check the path and the id."))
