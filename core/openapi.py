"""The error answers of the API, declared in the OpenAPI schema (issue #12).

drf-spectacular documents the success answer a view gives; the errors come from layers it does
not see: authentication and its bad-token throttle (core/throttling.py), the permission classes,
``IdConverter``'s 404 for a malformed id (core/routing.py), ``DomainError`` and its subclasses
from the services, serializer validation, and core/api.py's exception handler, which gives them all
one JSON shape. :func:`add_error_responses` adds those answers to each operation by what can
really raise them, so a client generated from the schema, and schemathesis in CI
(``scripts/api_fuzz.sh``, which fails on any undocumented status), know what to expect:

- 401 and 403 where the operation needs a signed-in caller;
- 404 where the path names an object (unknown id, or one the caller may not see);
- 400 everywhere: input that is not valid (a ``DomainError`` is 400 unless it says otherwise),
  and on any operation an address with a NUL character in it (core/middleware.py);
- 409 on every state change (``IllegalTransition``: the object is not in a state that allows it);
- 415 where a body is read and its Content-Type is not one the operation parses;
- 429 everywhere: a client address that sent too many bad tokens is refused on any operation, and
  the data operations have their own per-user and per-grant rates;
- 414 where a query string can be sent: gunicorn refuses a request line over 4,094 bytes
  (``--limit-request-line``) with a short HTML page of its own, before Django sees it.

Answers a view declares itself (for example 410 on a purged delivery, 413 on an upload) are kept.
"""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error answer: a message for people, and per-field messages for input.",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong and what to do."},
        "errors": {
            "type": "object",
            "additionalProperties": True,
            "description": "Field name → messages, when the input is not valid.",
        },
    },
    "required": ["detail"],
    # Some refusals add facts to act on: the limit in bytes, the next allowed time.
    "additionalProperties": True,
}

DESCRIPTIONS = {
    "400": "The input is not valid, or the step cannot be carried out.",
    "401": "No valid token or session.",
    "403": "The caller's role or department does not allow this.",
    "404": "No such object, or not one the caller may see; or the id is malformed.",
    "409": "The object is not in a state that allows this step.",
    "414": "The address is longer than the server takes (gunicorn's limit); shorten the query.",
    "415": "The body's Content-Type is not one this operation reads.",
    "429": "Too many calls, or too many bad tokens from this address; retry after the delay.",
}

RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer"},
        "description": "Seconds to wait before the next call.",
    }
}

CHANGING = ("post", "put", "patch", "delete")


class ErrorSerializer(serializers.Serializer):
    """For views that declare an error of their own; the hook gives it the full ``Error`` shape."""

    detail = serializers.CharField()

    class Meta:
        ref_name = "Error"


def error(description: str) -> OpenApiResponse:
    """An error answer a view declares itself, in the one JSON shape: ``{413: error("...")}``."""
    return OpenApiResponse(response=ErrorSerializer, description=description)


def paginated(serializer: type[serializers.Serializer], name: str) -> serializers.Serializer:
    """The page of ``serializer`` objects a custom list action answers (``StandardPagination``)."""
    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer(many=True),
        },
    )


def _error_codes(method: str, operation: dict[str, Any]) -> list[str]:
    parameters = operation.get("parameters", [])
    public = operation.get("security") == [{}]
    codes = [] if public else ["401", "403"]
    # A path id that names nothing, or a page past the last ("Invalid page.").
    if any(
        parameter.get("in") == "path" or parameter.get("name") == "page" for parameter in parameters
    ):
        codes.append("404")
    # Bad input of any kind; a NUL character in any address is one (core/middleware.py).
    codes.append("400")
    if method in CHANGING:
        codes.append("409")
    if "requestBody" in operation:
        codes.append("415")
    codes.append("429")
    if any(parameter.get("in") == "query" for parameter in parameters):
        codes.append("414")
    return codes


def add_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the ``Error`` component and each operation's errors."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = (
        ERROR_SCHEMA  # replaces ErrorSerializer's
    )
    reference = {"$ref": "#/components/schemas/Error"}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in ("get", *CHANGING):
                continue
            responses = operation.setdefault("responses", {})
            for code in _error_codes(method, operation):
                if code in responses:
                    continue
                media = "text/html" if code == "414" else "application/json"
                response: dict[str, Any] = {
                    "description": DESCRIPTIONS[code],
                    "content": {
                        media: {"schema": {"type": "string"} if code == "414" else reference}
                    },
                }
                if code == "429":
                    response["headers"] = RETRY_AFTER
                responses[code] = response
    return result
