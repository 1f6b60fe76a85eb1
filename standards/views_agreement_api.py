"""A grant's data-sharing agreement over REST: read it, sign it.

Visible to the grant's parties (``rights.selectors.grant_for_user``: the grantee, the owner, the
management-right holder and the office; 404 for anyone else). Signing calls exactly one service.
"""

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from departments.models import Department
from rights.selectors import grant_for_user
from standards import agreements
from standards.models import Agreement, AgreementSignature


class AgreementSignatureSerializer(serializers.Serializer):
    department = serializers.CharField(help_text="The code of the department signed for.")
    role = serializers.ChoiceField(choices=AgreementSignature.Role.choices)
    signer = serializers.CharField(help_text="The signer's username.")
    signed_at = serializers.DateTimeField()
    sha256 = serializers.CharField(help_text="The SHA-256 of the document that was signed.")
    ledger_index = serializers.IntegerField(allow_null=True)


@extend_schema_field(OpenApiTypes.OBJECT)
class DocumentField(serializers.JSONField):
    """The agreement document (format govshare-dsa/1), as generated on approval."""


class AgreementSerializer(serializers.Serializer):
    document = DocumentField()
    sha256 = serializers.CharField(help_text="SHA-256 of the document's RFC 8785 JSON.")
    signatures = AgreementSignatureSerializer(many=True)
    signed_at = serializers.DateTimeField(
        allow_null=True, help_text="When both departments had signed; null until then."
    )


class AgreementSignSerializer(serializers.Serializer):
    department = serializers.CharField(
        required=False,
        max_length=32,
        help_text="The code of the department you sign for, when you act for more than one.",
    )

    def validate_department(self, code: str) -> Department:
        department = Department.objects.filter(code=code).first()
        if department is None:
            raise serializers.ValidationError(_("No department with the code %(c)s.") % {"c": code})
        return department


def _agreement(request: Request, pk: int) -> Agreement:
    grant = grant_for_user(request.user, pk)
    agreement = Agreement.objects.filter(grant=grant).first()
    if agreement is None:
        raise Http404(
            _(
                "Grant #%(id)d has no data-sharing agreement yet (it predates agreements): the "
                "data management office generates it with `manage.py agreements_generate`."
            )
            % {"id": grant.pk}
        )
    return agreement


class AgreementView(APIView):
    """GET /api/v1/grants/{id}/agreement/ — the grant's parties."""

    @extend_schema(
        responses={200: AgreementSerializer},
        description="The grant's data-sharing agreement: every field, its SHA-256, the "
        "signatures so far and when both had signed.",
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(agreements.agreement_as_dict(_agreement(request, pk)))


class AgreementSignView(APIView):
    """POST /api/v1/grants/{id}/agreement/sign/ — a steward of the owner or a requester of the
    grantee signs for their department."""

    @extend_schema(
        request=AgreementSignSerializer,
        responses={201: AgreementSerializer},
        description="Sign the agreement for the department you act for: a data steward of the "
        "owning department as the provider, a requester of the grantee department as the "
        "recipient. 403 for anyone else, 409 when that department has signed already or the "
        "grant has ended.",
    )
    def post(self, request: Request, pk: int) -> Response:
        agreement = _agreement(request, pk)
        serializer = AgreementSignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        agreements.agreement_sign(
            actor=request.user,
            agreement=agreement,
            department=serializer.validated_data.get("department"),
        )
        agreement.refresh_from_db()
        return Response(agreements.agreement_as_dict(agreement), status=status.HTTP_201_CREATED)
