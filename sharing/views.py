from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect

from core.exceptions import DomainError
from core.forms import error_message
from rights import selectors
from sharing import access
from sharing.models import Delivery


def delivery_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The delivered file, for the grantee's members while the grant is active (logged)."""
    delivery = (
        Delivery.objects.filter(
            pk=pk, grant__in=selectors.grants_visible_to(request.user).values("pk")
        )
        .select_related("grant")
        .first()
    )
    if delivery is None:
        existing = Delivery.objects.filter(pk=pk).select_related("grant").first()
        access.log_not_visible(
            http_request=request,
            action="download",
            target=f"delivery {pk}",
            grant=existing.grant if existing else None,
        )
        raise Http404
    try:
        handle = access.delivery_open(user=request.user, delivery=delivery, http_request=request)
    except DomainError as exc:
        messages.error(request, error_message(exc))
        return redirect("grants:grant_detail", pk=delivery.grant_id)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"govshare-delivery-{delivery.pk}.zip",
        content_type="application/zip",
    )
