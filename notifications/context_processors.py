from collections.abc import Callable

from django.http import HttpRequest

from notifications.models import Notification


def unread_notifications(request: HttpRequest) -> dict[str, Callable[[], int]]:
    """``unread_notification_count`` for the navigation: one COUNT query, and only when a
    template uses it (templates call callables), so admin pages and API responses pay nothing."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count() -> int:
        return Notification.objects.filter(recipient=user, read_at__isnull=True).count()

    return {"unread_notification_count": count}
