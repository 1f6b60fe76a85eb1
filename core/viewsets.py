"""The base of every workflow endpoint: its schema, its list and detail, its step helpers.

Apart from core/api.py on purpose: the settings name core.api's pagination and error handler,
and REST framework's generic views read those settings when they are imported.
"""

from typing import Any

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from core.parsers import JSONParser


def transition_schema(request: Any, response: Any, description: str) -> Any:
    """The OpenAPI schema of a workflow step: its body, and the object it answers with."""
    return extend_schema(request=request, responses={200: response}, description=description)


def timeline_prefetch(model: Any) -> "Prefetch[Any]":
    """The timeline of each object with who and for which department, in one query."""
    return Prefetch("steps", queryset=model.objects.select_related("actor", "department"))


class WorkflowViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A list and a detail of workflow objects, with the helpers every step endpoint uses:
    ``_input`` validates the step's body, ``_answer`` returns the object as it is now."""

    parser_classes = [JSONParser]
    detail_serializer_class: type[serializers.Serializer[Any]]  # the answer to every step

    def _answer(self, obj: Any, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=obj.pk)
        return Response(self.detail_serializer_class(fresh).data, status=code)

    def _input(self, serializer_class: type[serializers.Serializer[Any]]) -> Any:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer
