"""The signed-in user's notifications."""

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from notifications import services
from notifications.models import Notification

PAGE_SIZE = 25


def _mine(user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(_mine(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/notification_list.html", {"page": page})


@require_POST
def notification_mark_all_read(request: HttpRequest) -> HttpResponseRedirect:
    unread = _mine(request.user).filter(read_at__isnull=True).values("pk")
    count = services.notification_mark_read(user=request.user, notification_ids=unread)
    messages.success(
        request,
        ngettext("%(n)d notification marked as read.", "%(n)d notifications marked as read.", count)
        % {"n": count},
    )
    return redirect("notifications:notification_list")
