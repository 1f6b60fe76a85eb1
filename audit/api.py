"""Ledger API: the verifier key, checkpoints, entries with inclusion proofs, consistency proofs
and receipts (DESIGN.md, "Contracts that outside tools depend on")."""

import base64
import json
from typing import Any, Literal, overload

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from departments.permissions import can_read_ledger_entry
from ledger import keys, witnesses
from ledger import services as ledger
from ledger.models import LedgerEntry


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@overload
def _int_param(request: Request, name: str, *, required: bool = ..., default: int) -> int: ...


@overload
def _int_param(
    request: Request, name: str, *, required: Literal[True] = ..., default: None = ...
) -> int: ...


def _int_param(
    request: Request, name: str, *, required: bool = True, default: int | None = None
) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        if required:
            raise ValidationError({name: _("This parameter is required.")})
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValidationError({name: _("Give a whole number.")}) from None


def visible_entry(user: Any, index: int) -> LedgerEntry:
    entry = LedgerEntry.objects.filter(index=index).first()
    if entry is None or not can_read_ledger_entry(user, entry):
        raise NotFound(_("No ledger entry %(i)d that you may read.") % {"i": index})
    return entry


class LedgerKeyView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request: Request) -> HttpResponse:
        return HttpResponse(keys.verifier_key() + "\n", content_type="text/plain; charset=utf-8")


class LedgerKeysView(APIView):
    """Every verifier key of the log, one per line: the current one first, then retired ones
    (``LEDGER_PREVIOUS_KEYS``) whose old checkpoints still verify with them."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request: Request) -> HttpResponse:
        text = "".join(f"{key}\n" for key in keys.log_keys())
        return HttpResponse(text, content_type="text/plain; charset=utf-8")


class LedgerCheckpointView(APIView):
    """The latest checkpoint: the log's signed note with every witness cosignature it has."""

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request: Request) -> HttpResponse:
        checkpoint = ledger.latest_checkpoint()
        if checkpoint is None or checkpoint.tree_size < ledger.tree_size():
            checkpoint = ledger.ledger_checkpoint_sign()
        if checkpoint is None:
            raise NotFound(_("The ledger is empty."))
        response = HttpResponse(
            ledger.cosigned_note(checkpoint), content_type="text/plain; charset=utf-8"
        )
        # The largest size a quorum of the departments' witnesses vouches for.
        response["X-Ledger-Witnessed-Size"] = str(witnesses.witnessed_size())
        return response


class LedgerEntryView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("tree_size", int, required=False)],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request, index: int) -> Response:
        entry = visible_entry(request.user, index)
        size = ledger.tree_size()
        tree_size = _int_param(request, "tree_size", required=False, default=size)
        if not entry.index < tree_size <= size:
            raise ValidationError(
                {
                    "tree_size": _("Must be greater than %(i)d and at most %(n)d.")
                    % {"i": entry.index, "n": size}
                }
            )
        proof = ledger.inclusion_proof(entry.index, tree_size)
        return Response(
            {
                "index": entry.index,
                "tree_size": tree_size,
                "entry": _b64(entry.entry_bytes),
                "leaf_hash": _b64(bytes(entry.leaf_hash)),
                "inclusion_proof": [_b64(h) for h in proof],
                "root_hash": _b64(ledger.root_at(tree_size)),
            }
        )


class LedgerConsistencyView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("first", int), OpenApiParameter("second", int)],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request) -> Response:
        first = _int_param(request, "first")
        second = _int_param(request, "second")
        size = ledger.tree_size()
        if not 0 < first <= second <= size:
            raise ValidationError({"detail": _("Need 0 < first <= second <= %(n)d.") % {"n": size}})
        proof = ledger.consistency_proof(first, second)
        return Response({"first": first, "second": second, "proof": [_b64(h) for h in proof]})


class LedgerReceiptView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, index: int) -> HttpResponse:
        entry = visible_entry(request.user, index)
        return receipt_response(entry)


def receipt_response(entry: LedgerEntry) -> HttpResponse:
    body = json.dumps(ledger.receipt(entry), indent=2) + "\n"
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="govshare-receipt-{entry.index}.json"'
    return response
