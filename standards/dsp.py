"""The Dataspace Protocol 2025-1 catalog (HTTPS binding): its documents and messages.

- ``catalog_document``: a ``Catalog`` (a DCAT catalog whose datasets carry ODRL offers), one
  page of it; ``dataset_document``: one ``Dataset``; ``versions_document``: the answer of
  ``/.well-known/dspace-version``; ``catalog_error``: a ``CatalogError``.
- ``catalog_request_read``: the body of ``POST /dsp/catalog/request``, checked as the protocol
  says; a bad message raises ``DspError`` with the status and reason the view answers.
- ``dsp_datasets`` and ``dsp_dataset``: which resources are datasets of the DSP catalog.

A dataset of this catalog is a published resource that is shareable (unconditional or
conditional) with at least one sharing method: the DSP schema requires every dataset to carry
one offer at least, and a resource that is not shareable has none (standards.offers). Every
participant (a department) sees the same catalog: it is metadata, as public as the register,
and never holds data.

The error reasons are protocol text for the connector's operator, in English (as the DSP
examples are), and are not translated.
"""

import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

from catalog.models import Resource, SharingType
from catalog.selectors import AnyUser, resources_visible_to
from departments.models import Department
from departments.permissions import department_ids
from standards.offers import resource_offers
from standards.vocab import (
    DSP_CONTEXT,
    DSPACE,
    EU_FILE_TYPE,
    dataset_uri,
    department_uri,
    participant_id,
    site_uri,
)

VERSION = "2025-1"
BASE_PATH = "/dsp"  # every endpoint of this version: <site>/dsp/catalog/request, ...
CATALOG_PATH = BASE_PATH + "/catalog"
MEDIA_TYPES = ("application/json", "application/ld+json")
# A CatalogRequestMessage is a few hundred bytes; anything this large is not one.
MAX_MESSAGE_BYTES = 64 * 1024


class Code:
    """CatalogError codes, one per reason for refusing."""

    INVALID_MESSAGE = "invalid-message"
    FILTER_NOT_SUPPORTED = "filter-not-supported"
    INVALID_PAGE = "invalid-page"
    UNAUTHORIZED = "unauthorized"
    NOT_A_PARTICIPANT = "not-a-participant"
    NOT_FOUND = "not-found"
    METHOD_NOT_ALLOWED = "method-not-allowed"
    UNSUPPORTED_MEDIA_TYPE = "unsupported-media-type"
    TOO_LARGE = "message-too-large"
    TOO_MANY_REQUESTS = "too-many-requests"


@dataclass
class DspError(Exception):
    """A refusal: the HTTP status, the CatalogError code and its reasons."""

    status: int
    code: str
    reasons: list[str]
    headers: dict[str, str] = field(default_factory=dict)


def catalog_error(code: str, reasons: list[str]) -> dict[str, Any]:
    return {"@context": [DSP_CONTEXT], "@type": "CatalogError", "code": code, "reason": reasons}


def _invalid(reason: str) -> DspError:
    return DspError(400, Code.INVALID_MESSAGE, [reason])


# --- the consumer's message ------------------------------------------------------------------


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _refuse_nan(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _context_names_dsp(context: Any) -> bool:
    if isinstance(context, str):
        return context == DSP_CONTEXT
    return isinstance(context, list) and DSP_CONTEXT in context


def _too_large() -> DspError:
    return DspError(413, Code.TOO_LARGE, [f"A message may have at most {MAX_MESSAGE_BYTES} bytes."])


def message_precheck(content_type: str, content_length: str) -> None:
    """Before the body is read: JSON (415 otherwise), a declared length within the limit (413).

    Checked first so a huge body is never read (Django would refuse it as a 400 HTML page).
    """
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        raise DspError(
            415,
            Code.UNSUPPORTED_MEDIA_TYPE,
            [f"Send the message as application/json (got {media_type or 'no Content-Type'})."],
        )
    declared = content_length.isascii() and content_length.isdigit()
    if declared and int(content_length) > MAX_MESSAGE_BYTES:
        raise _too_large()


def message_read(body: bytes, expected_type: str) -> dict[str, Any]:
    """The JSON object of a DSP message of ``expected_type`` (after ``message_precheck``), or
    ``DspError``.

    Refused: more than ``MAX_MESSAGE_BYTES`` (413); bytes that are not UTF-8 JSON, a NUL
    character anywhere, no object, an ``@context`` without the DSP 2025-1 context, another
    ``@type`` (400). ``@type`` may be the term, ``dspace:`` compact or the full IRI.
    """
    if len(body) > MAX_MESSAGE_BYTES:
        raise _too_large()
    try:
        message = json.loads(body.decode("utf-8"), parse_constant=_refuse_nan)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _invalid("The body is not a JSON document in UTF-8.") from None
    if _has_nul(message):
        raise _invalid("The message contains a NUL character (\\u0000).")
    if not isinstance(message, dict):
        raise _invalid("The message must be a JSON object.")
    if not _context_names_dsp(message.get("@context")):
        raise _invalid(f"The message's @context must be an array that includes {DSP_CONTEXT}.")
    if message.get("@type") not in [
        expected_type,
        "dspace:" + expected_type,
        DSPACE + expected_type,
    ]:
        raise _invalid(f"The message's @type must be {expected_type}.")
    return message


def catalog_request_read(body: bytes) -> dict[str, Any]:
    """A ``CatalogRequestMessage``: ``message_read``, and no filter (400 "filter-not-supported":
    the HTTPS binding's answer to a filter the service does not support). ``[]`` is no filter.
    """
    message = message_read(body, "CatalogRequestMessage")
    filters = message.get("filter", [])
    if not isinstance(filters, list):
        raise _invalid("The message's filter must be an array.")
    if filters:
        raise DspError(
            400,
            Code.FILTER_NOT_SUPPORTED,
            [
                "This catalog service supports no filter expression: send an empty or no filter "
                "and filter the catalog on your side."
            ],
        )
    return message


def page_number(raw: str | None) -> int:
    """The page a ``?page=`` names (1 when absent), or ``DspError`` 400."""
    if raw is None:
        return 1
    if not (raw.isascii() and raw.isdigit() and 0 < len(raw) <= 9 and int(raw) >= 1):
        raise DspError(400, Code.INVALID_PAGE, ["page must be a whole number from 1."])
    return int(raw)


# --- who asks, and what they see --------------------------------------------------------------


def is_participant(user: AnyUser) -> bool:
    """A participant is a user holding a role in an active department; they act for all of them.

    The catalog does not depend on the department: every participant sees the same datasets.
    """
    ids = department_ids(user)
    return bool(ids) and Department.objects.filter(pk__in=ids, is_active=True).exists()


def dsp_datasets(user: AnyUser) -> QuerySet[Resource]:
    """The resources that are datasets of the DSP catalog, in the order of the catalog."""
    any_method = Q()
    for column in Resource.METHOD_FIELDS.values():
        any_method |= Q(**{column: True})
    return (
        resources_visible_to(user)
        .filter(status=Resource.Status.PUBLISHED)
        .filter(sharing_type__in=[SharingType.UNCONDITIONAL, SharingType.CONDITIONAL])
        .filter(any_method)
        .select_related("owner_department", "management_right_holder")
        .defer("search_text")
        .order_by("identifier", "id")
    )


def dsp_dataset(user: AnyUser, dataset_id: str) -> Resource:
    """The dataset named by its identifier or by its full @id, or ``DspError`` 404."""
    prefix = dataset_uri("")
    identifier = dataset_id[len(prefix) :] if dataset_id.startswith(prefix) else dataset_id
    resource = dsp_datasets(user).filter(identifier=identifier).first()
    if resource is None:
        shown = dataset_id if len(dataset_id) <= 200 else dataset_id[:200] + "..."
        raise DspError(404, Code.NOT_FOUND, [f"No dataset {shown!r} is in this catalog."])
    return resource


# --- the provider's documents ------------------------------------------------------------------


def service_id() -> str:
    return site_uri(BASE_PATH)


def data_service() -> dict[str, Any]:
    """The connector endpoint of this portal (the base of this version's DSP endpoints)."""
    return {"@id": service_id(), "@type": "DataService", "endpointURL": site_uri(BASE_PATH)}


def catalog_participant_id() -> str:
    """The provider of the catalog: the data management office (the portal itself if none)."""
    code = (
        Department.objects.filter(kind=Department.Kind.OFFICE, is_active=True)
        .order_by("code")
        .values_list("code", flat=True)
        .first()
    )
    return participant_id(code) if code else site_uri("/")


def _dataset(resource: Resource, access_service: str | dict[str, Any]) -> dict[str, Any]:
    return {
        "@id": dataset_uri(resource.identifier),
        "@type": "Dataset",
        "dct:identifier": resource.identifier,
        "dct:title": resource.title,
        "dct:description": resource.abstract,
        "dct:publisher": {"@id": department_uri(resource.owner_department.code)},
        "dcat:landingPage": {"@id": site_uri(resource.get_absolute_url())},
        "hasPolicy": resource_offers(resource),
        "distribution": [
            {
                "@type": "Distribution",
                "format": EU_FILE_TYPE + resource.format.upper(),
                "accessService": access_service,
            }
        ],
    }


def dataset_document(resource: Resource) -> dict[str, Any]:
    """A ``Dataset`` on its own (its distribution names the whole DataService)."""
    return {"@context": [DSP_CONTEXT], **_dataset(resource, data_service())}


def catalog_document(resources: list[Resource], participant: str) -> dict[str, Any]:
    """A ``Catalog`` of ``resources`` (one page), provided by ``participant``.

    The schema wants ``dataset`` to hold one item at least, so an empty page has no ``dataset``.
    """
    document: dict[str, Any] = {
        "@context": [DSP_CONTEXT],
        "@id": site_uri(CATALOG_PATH),
        "@type": "Catalog",
        "participantId": participant,
        "service": [data_service()],
    }
    if resources:
        document["dataset"] = [_dataset(resource, service_id()) for resource in resources]
    return document


def page_size() -> int:
    return settings.DSP_CATALOG_PAGE_SIZE


def page_links(page: int, last_page: int) -> str:
    """The ``Link`` header of a page: ``previous`` and ``next`` (RFC 8288), as the binding says."""
    url = site_uri(CATALOG_PATH + "/request")
    links = []
    if page > 1:
        links.append(f'<{url}?page={page - 1}>; rel="previous"')
    if page < last_page:
        links.append(f'<{url}?page={page + 1}>; rel="next"')
    return ", ".join(links)


def versions_document() -> dict[str, Any]:
    return {
        "protocolVersions": [
            {"version": VERSION, "path": BASE_PATH, "binding": "HTTPS", "serviceId": service_id()}
        ]
    }
